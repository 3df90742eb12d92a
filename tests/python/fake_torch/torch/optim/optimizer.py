"""Optimizers with step post-hooks, as torch.optim.optimizer has them: global hooks
(register_optimizer_step_post_hook) run for every optimizer, then the optimizer's own."""
import itertools

_global_hooks = {}
_ids = itertools.count()


class RemovableHandle(object):
    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def remove(self):
        self._hooks.pop(self._key, None)


def register_optimizer_step_post_hook(hook):
    key = next(_ids)
    _global_hooks[key] = hook
    return RemovableHandle(_global_hooks, key)


class Optimizer(object):
    def __init__(self, name):
        self.name = name
        self._hooks = {}

    def register_step_post_hook(self, hook):
        key = next(_ids)
        self._hooks[key] = hook
        return RemovableHandle(self._hooks, key)

    def step(self):
        import torch
        torch.randint_byte()  # the update draws from the generator (dropout, say)
        for hook in list(_global_hooks.values()) + list(self._hooks.values()):
            hook(self, (), {})
