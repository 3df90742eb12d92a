"""The one declaration of every function ddrr intercepts.

Each Function here generates (gen_api.py, gen_wrappers.py, gen_replay.py): its typed message in
api.proto, its encoder for the interposer (no libprotobuf), its row in the function table used by
the dumper, the interposer's wrapper, the reader-side view of a collective's arguments, and its
comm-replay entry. Ids are the protobuf field numbers of ApiCall.fn and of the argument fields:
NEVER renumber or reuse one (docs/FORMAT.md, "Compatibility"). Add new functions with new ids;
retire old ones by leaving their id unused.
"""

from dataclasses import dataclass
from typing import Optional, Sequence


# ---- argument types -------------------------------------------------------------------------
@dataclass(frozen=True)
class Type:
    proto: str          # protobuf field type
    cpp: str            # C++ parameter type of the generated encoder
    kind: str           # ArgKind in options.proto: how tools show it
    c: str = ""         # the C type an argument of this kind has, unless the Arg says otherwise
    handle: str = ""    # handle family (comm, stream, event, ...) for numbering in dumps
    wire: str = "varint"  # varint | zigzag | fixed32 | fixed64 | bytes | float | double


INT = Type("int32", "int64_t", "ARG_INT", "int")
UINT = Type("uint32", "uint64_t", "ARG_INT", "unsigned int")
INT64 = Type("int64", "int64_t", "ARG_INT", "long long")
UINT64 = Type("uint64", "uint64_t", "ARG_INT", "unsigned long long")
SIZE = Type("uint64", "uint64_t", "ARG_SIZE", "size_t")
FLAGS = Type("uint32", "uint64_t", "ARG_FLAGS", "unsigned int")
FLOAT = Type("float", "float", "ARG_FLOAT", "float", wire="float")
DOUBLE = Type("double", "double", "ARG_FLOAT", "double", wire="double")
PTR = Type("uint64", "uint64_t", "ARG_POINTER", "void*")       # device or host address
FUNC = Type("uint64", "uint64_t", "ARG_FUNCTION", "const void*")  # host function / kernel handle
STRING = Type("string", "std::string_view", "ARG_STRING", "const char*", wire="bytes")
BYTES = Type("bytes", "std::string_view", "ARG_BYTES", wire="bytes")
UNIQUE_ID = Type("bytes", "std::string_view", "ARG_UNIQUE_ID", "ncclUniqueId", wire="bytes")


def Handle(family: str, c: str) -> Type:
    return Type("uint64", "uint64_t", "ARG_HANDLE", c, handle=family)


def Enum(name: str, c: str) -> Type:
    return Type(name, "int64_t", "ARG_ENUM", c)


COMM = Handle("comm", "ncclComm_t")
STREAM = Handle("stream", "cudaStream_t")
EVENT = Handle("event", "cudaEvent_t")
GRAPH = Handle("graph", "cudaGraph_t")
GRAPH_EXEC = Handle("graphExec", "cudaGraphExec_t")
CURAND_GEN = Handle("curandGenerator", "curandGenerator_t")
NCCL_REG = Handle("ncclRegistration", "void*")
NCCL_WINDOW = Handle("ncclWindow", "ncclWindow_t")
NCCL_RESULT = Enum("NcclResult", "ncclResult_t")
DATATYPE = Enum("NcclDataType", "ncclDataType_t")
REDOP = Enum("NcclRedOp", "ncclRedOp_t")
MEMCPY_KIND = Enum("CudaMemcpyKind", "enum cudaMemcpyKind")
SCALAR_RESIDENCE = Enum("NcclScalarResidence", "ncclScalarResidence_t")
RNG_TYPE = Enum("CurandRngType", "curandRngType_t")
CAPTURE_MODE = Enum("CudaStreamCaptureMode", "enum cudaStreamCaptureMode")
DIM3 = Type("Dim3", "Dim3Value", "ARG_DIM3", "dim3", wire="message")
NCCL_CONFIG = Type("NcclConfig", "const NcclConfigValue*", "ARG_CONFIG", "ncclConfig_t*",
                   wire="message")


@dataclass(frozen=True)
class Arg:
    name: str
    type: Type
    direction: str = "in"  # in: value passed; out: value written by the callee (recorded after)
    ctype: str = ""        # C parameter type as the header declares it; "" for a derived argument
    count: str = ""        # an array: the argument holding its length
    expr: str = ""         # wrapper: the C++ expression giving the recorded value, when it is not
                           # the parameter itself (derived arguments, outputs read through a struct)

    @property
    def repeated(self) -> bool:
        return bool(self.count)

    @property
    def derived(self) -> bool:  # recorded, but not a C parameter
        return not self.ctype


def In(name, t, ctype=None, count="", expr=""):
    return Arg(name, t, "in", t.c if ctype is None else ctype, count, expr)


def Out(name, t, ctype=None, count="", expr=""):
    return Arg(name, t, "out", t.c + "*" if ctype is None else ctype, count, expr)


def Derived(name, t, expr):
    """Recorded with the call but not a C parameter: `expr` computes it in the wrapper."""
    return Arg(name, t, "in", "", "", expr)


@dataclass(frozen=True)
class Buffer:
    """A data buffer of a collective or p2p call, for the digests and payloads capture levels, the
    collective view and comm replay's data checks."""
    role: str               # in | out
    arg: str                # the pointer argument
    count: str              # the argument holding its element count
    per_rank: bool = False  # the buffer holds count elements for each rank of the communicator
    whose: str = "all"      # all: every rank's buffer matters; root: only the root's


# How comm replay (`ddrr replay`, src/replay) treats a recorded call.
ISSUE = "issue"    # re-issued with its arguments mapped: handles, buffers, devices (generated)
CUSTOM = "custom"  # re-issued by a hand-written entry in src/replay/custom_entries.cc
SKIP = "skip"      # not replayed: it neither communicates nor orders communication

# How application replay (`ddrr replay RUN -- PROG`, the interposer's replay mode) treats a call of
# the replayed program. Whatever the kind, a call that failed when recorded is not re-executed: its
# recorded result is returned (a call that succeeds now where it failed would change the program).
REAL = "real"          # runs for real (CUDA runtime, cuRAND, NCCL calls that reach no peer)
PEER = "peer"          # reaches other ranks: served from the recording when a member of its
                       # communicator is not running (creation, collectives, p2p, queries)
RECORDED = "recorded"  # always answered from the recording (what the recorded machine had)
DEVICE = "device"      # runs for real on the device the recorded one maps to
GROUP = "group"        # runs for real; answers as recorded when the group holds no real op
QUERY = "query"        # "not ready" as recorded, without asking; "done" once it is done

# How the interposer wraps a function.
GENERATED = "generated"  # the wrapper is generated
HOOKED = "hooked"        # generated, and it calls interpose::hooks::<Name> (created comms' keys)
MANUAL = "manual"        # hand-written (kernel launches, interpose/launches.cc)


@dataclass(frozen=True)
class Function:
    id: int
    name: str               # C name
    library: str            # nccl | cudart | curand
    args: Sequence[Arg]
    result: str = ""        # enum that names the return code ("" = not an error code)
    category: str = ""      # collective | p2p | group | comm_create | comm_destroy | memory | ...
    comm_arg: Optional[str] = None  # the argument holding the communicator the call acts on
    replay: str = SKIP
    wrapper: str = GENERATED
    c_result: str = ""      # C return type when it is not the library's result code
    buffers: Sequence[Buffer] = ()
    app: str = REAL         # how application replay treats it (above)
    # The call can block (wait for peers, for the device): while it runs, the rank's in-flight
    # table says so, and a reader of a live or killed rank sees where it waits. None: by category.
    may_block: Optional[bool] = None

    @property
    def blocking(self) -> bool:
        if self.may_block is not None:
            return self.may_block
        return self.category in ("collective", "p2p", "comm_create", "comm_destroy", "sync")

    @property
    def c_args(self):
        return [a for a in self.args if not a.derived]

    @property
    def c_return(self):
        return self.c_result or LIBRARY_RESULT[self.library]


# Default result type per library.
LIBRARY_RESULT = {"nccl": "ncclResult_t", "cudart": "cudaError_t", "curand": "curandStatus_t"}
# Each library's function ids lie in one range [first, end), so that readers tell a call's library
# from its id alone (api_table.h: IsNcclFunction, ...).
LIBRARY_IDS = {"nccl": (1, 100), "cudart": (200, 300), "curand": (300, 400)}


# ---- NCCL 2.28.9: all 41 public host functions of nccl.h -------------------------------------
_R = "NcclResult"


def _coll(count="count"):
    """The leading arguments every collective but Bcast shares."""
    return [In("sendbuff", PTR, "const void*"), In("recvbuff", PTR), In(count, SIZE),
            In("datatype", DATATYPE)]


_TAIL = [In("comm", COMM), In("stream", STREAM)]


def _nccl(id, name, args, category, comm_arg=None, replay=SKIP, **kw):
    if "app" not in kw:
        kw["app"] = (PEER if comm_arg or category == "comm_create" else
                     GROUP if category == "group" else REAL)
    return Function(id, name, "nccl", args, kw.pop("result", _R), category, comm_arg, replay,
                    **kw)


NCCL = [
    _nccl(1, "ncclGetVersion", [Out("version", INT)], "info"),
    # Replay makes ids afresh when it creates a communicator, and passes them between its ranks.
    # Application replay hands back the recorded id when the communicator made from it is served.
    _nccl(2, "ncclGetUniqueId", [Out("unique_id", UNIQUE_ID)], "info", app=PEER),
    _nccl(3, "ncclGetErrorString", [In("result", NCCL_RESULT)], "info", result="",
          c_result="const char*"),
    _nccl(4, "ncclGetLastError", [In("comm", COMM)], "info", "comm", result="",
          c_result="const char*"),
    _nccl(5, "ncclResetDebugInit", [], "info", result="", c_result="void"),
    _nccl(6, "ncclMemAlloc", [Out("ptr", PTR), In("size", SIZE)], "memory", replay=CUSTOM),
    _nccl(7, "ncclMemFree", [In("ptr", PTR)], "memory", replay=CUSTOM),
    _nccl(10, "ncclCommInitRank",
          [Out("comm", COMM), In("nranks", INT), In("comm_id", UNIQUE_ID), In("rank", INT)],
          "comm_create", "comm", CUSTOM, wrapper=HOOKED),
    _nccl(11, "ncclCommInitRankConfig",
          [Out("comm", COMM), In("nranks", INT), In("comm_id", UNIQUE_ID), In("rank", INT),
           In("config", NCCL_CONFIG)], "comm_create", "comm", CUSTOM, wrapper=HOOKED),
    _nccl(12, "ncclCommInitAll",
          [Out("comms", COMM, "ncclComm_t*", count="ndev"), In("ndev", INT),
           In("devlist", INT, "const int*", count="ndev")], "comm_create", replay=CUSTOM,
          wrapper=HOOKED),
    _nccl(13, "ncclCommInitRankScalable",
          [Out("newcomm", COMM), In("nranks", INT), In("myrank", INT), In("n_id", INT),
           In("comm_ids", UNIQUE_ID, "ncclUniqueId*", count="n_id"), In("config", NCCL_CONFIG)],
          "comm_create", "newcomm", CUSTOM, wrapper=HOOKED),
    _nccl(14, "ncclCommSplit",
          [In("comm", COMM), In("color", INT), In("key", INT), Out("newcomm", COMM),
           In("config", NCCL_CONFIG)], "comm_create", "comm", CUSTOM, wrapper=HOOKED),
    _nccl(15, "ncclCommShrink",
          [In("comm", COMM), In("exclude_ranks", INT, "int*", count="exclude_ranks_count"),
           In("exclude_ranks_count", INT), Out("newcomm", COMM), In("config", NCCL_CONFIG),
           In("shrink_flags", FLAGS, "int")], "comm_create", "comm", CUSTOM, wrapper=HOOKED),
    _nccl(20, "ncclCommFinalize", [In("comm", COMM)], "comm_destroy", "comm", ISSUE),
    _nccl(21, "ncclCommDestroy", [In("comm", COMM)], "comm_destroy", "comm", ISSUE),
    _nccl(22, "ncclCommAbort", [In("comm", COMM)], "comm_destroy", "comm", ISSUE),
    _nccl(23, "ncclCommRevoke", [In("comm", COMM), In("revoke_flags", FLAGS, "int")],
          "comm_destroy", "comm", ISSUE),
    # Polled: replay waits until the answer is no longer ncclInProgress where the program saw one.
    _nccl(24, "ncclCommGetAsyncError", [In("comm", COMM), Out("async_error", NCCL_RESULT)],
          "comm_query", "comm", CUSTOM),
    _nccl(25, "ncclCommCount", [In("comm", COMM, "const ncclComm_t"), Out("count", INT)],
          "comm_query", "comm", ISSUE),
    _nccl(26, "ncclCommCuDevice", [In("comm", COMM, "const ncclComm_t"), Out("device", INT)],
          "comm_query", "comm", ISSUE),
    _nccl(27, "ncclCommUserRank", [In("comm", COMM, "const ncclComm_t"), Out("rank", INT)],
          "comm_query", "comm", ISSUE),
    _nccl(30, "ncclCommRegister",
          [In("comm", COMM, "const ncclComm_t"), In("buff", PTR), In("size", SIZE),
           Out("handle", NCCL_REG)], "registration", "comm", ISSUE),
    _nccl(31, "ncclCommDeregister", [In("comm", COMM, "const ncclComm_t"), In("handle", NCCL_REG)],
          "registration", "comm", ISSUE),
    _nccl(32, "ncclCommWindowRegister",
          [In("comm", COMM), In("buff", PTR), In("size", SIZE), Out("win", NCCL_WINDOW),
           In("win_flags", FLAGS, "int")], "registration", "comm", ISSUE),
    _nccl(33, "ncclCommWindowDeregister", [In("comm", COMM), In("win", NCCL_WINDOW)],
          "registration", "comm", ISSUE),
    _nccl(35, "ncclRedOpCreatePreMulSum",
          [Out("op", REDOP), In("scalar", PTR), In("datatype", DATATYPE),
           In("residence", SCALAR_RESIDENCE), In("comm", COMM),
           Derived("scalar_value", BYTES,
                   "::ddrr::interpose::ScalarBytes(scalar, datatype, residence)")],
          "redop", "comm", CUSTOM),
    _nccl(36, "ncclRedOpDestroy", [In("op", REDOP), In("comm", COMM)], "redop", "comm", ISSUE),
    _nccl(40, "ncclReduce", _coll() + [In("op", REDOP), In("root", INT)] + _TAIL, "collective",
          "comm", ISSUE,
          buffers=[Buffer("in", "sendbuff", "count"), Buffer("out", "recvbuff", "count",
                                                             whose="root")]),
    _nccl(41, "ncclBcast",
          [In("buff", PTR), In("count", SIZE), In("datatype", DATATYPE), In("root", INT)] + _TAIL,
          "collective", "comm", ISSUE,
          buffers=[Buffer("in", "buff", "count", whose="root"), Buffer("out", "buff", "count")]),
    _nccl(42, "ncclBroadcast", _coll() + [In("root", INT)] + _TAIL, "collective", "comm", ISSUE,
          buffers=[Buffer("in", "sendbuff", "count", whose="root"),
                   Buffer("out", "recvbuff", "count")]),
    _nccl(43, "ncclAllReduce", _coll() + [In("op", REDOP)] + _TAIL, "collective", "comm", ISSUE,
          buffers=[Buffer("in", "sendbuff", "count"), Buffer("out", "recvbuff", "count")]),
    _nccl(44, "ncclReduceScatter", _coll("recvcount") + [In("op", REDOP)] + _TAIL, "collective",
          "comm", ISSUE,
          buffers=[Buffer("in", "sendbuff", "recvcount", per_rank=True),
                   Buffer("out", "recvbuff", "recvcount")]),
    _nccl(45, "ncclAllGather", _coll("sendcount") + _TAIL, "collective", "comm", ISSUE,
          buffers=[Buffer("in", "sendbuff", "sendcount"),
                   Buffer("out", "recvbuff", "sendcount", per_rank=True)]),
    _nccl(46, "ncclAlltoAll", _coll() + _TAIL, "collective", "comm", ISSUE,
          buffers=[Buffer("in", "sendbuff", "count", per_rank=True),
                   Buffer("out", "recvbuff", "count", per_rank=True)]),
    _nccl(47, "ncclGather", _coll() + [In("root", INT)] + _TAIL, "collective", "comm", ISSUE,
          buffers=[Buffer("in", "sendbuff", "count"),
                   Buffer("out", "recvbuff", "count", per_rank=True, whose="root")]),
    _nccl(48, "ncclScatter", _coll() + [In("root", INT)] + _TAIL, "collective", "comm", ISSUE,
          buffers=[Buffer("in", "sendbuff", "count", per_rank=True, whose="root"),
                   Buffer("out", "recvbuff", "count")]),
    _nccl(50, "ncclSend",
          [In("sendbuff", PTR, "const void*"), In("count", SIZE), In("datatype", DATATYPE),
           In("peer", INT)] + _TAIL, "p2p", "comm", ISSUE,
          buffers=[Buffer("in", "sendbuff", "count")]),
    _nccl(51, "ncclRecv",
          [In("recvbuff", PTR), In("count", SIZE), In("datatype", DATATYPE), In("peer", INT)]
          + _TAIL, "p2p", "comm", ISSUE, buffers=[Buffer("out", "recvbuff", "count")]),
    _nccl(55, "ncclGroupStart", [], "group", replay=ISSUE),
    _nccl(56, "ncclGroupEnd", [], "group", replay=ISSUE, may_block=True),
    _nccl(57, "ncclGroupSimulateEnd",
          [Out("estimated_time", FLOAT, "ncclSimInfo_t*",
               expr="(estimated_time ? estimated_time->estimatedTime : 0.0f)")], "group"),
]

# ---- CUDA runtime: the calls that matter for replay and diagnosis ------------------------------
_C = "CudaError"


def _cuda(id, name, args, category, replay=SKIP, **kw):
    return Function(id, name, "cudart", args, _C, category, None, replay, **kw)


CUDART = [
    # The program sees the devices it was recorded with, whatever this machine has.
    _cuda(200, "cudaGetDeviceCount", [Out("count", INT)], "device", app=RECORDED),
    _cuda(201, "cudaSetDevice", [In("device", INT)], "device", CUSTOM,  # devices are remapped
          app=DEVICE),
    _cuda(202, "cudaGetDevice", [Out("device", INT)], "device", app=RECORDED),
    _cuda(203, "cudaDeviceSynchronize", [], "sync", ISSUE),
    _cuda(204, "cudaDeviceReset", [], "device"),
    # Replay allocates only what NCCL calls use, sized to the largest extent used.
    _cuda(210, "cudaMalloc", [Out("dev_ptr", PTR), In("size", SIZE)], "memory", CUSTOM),
    _cuda(211, "cudaFree", [In("dev_ptr", PTR)], "memory", CUSTOM),
    _cuda(212, "cudaMallocHost", [Out("ptr", PTR), In("size", SIZE)], "memory", CUSTOM),
    _cuda(213, "cudaFreeHost", [In("ptr", PTR)], "memory", CUSTOM),
    _cuda(214, "cudaHostAlloc", [Out("host_ptr", PTR), In("size", SIZE), In("flags", FLAGS)],
          "memory", CUSTOM),
    _cuda(215, "cudaMallocManaged", [Out("dev_ptr", PTR), In("size", SIZE), In("flags", FLAGS)],
          "memory", CUSTOM),
    _cuda(216, "cudaMallocAsync", [Out("dev_ptr", PTR), In("size", SIZE), In("stream", STREAM)],
          "memory", CUSTOM),
    _cuda(217, "cudaFreeAsync", [In("dev_ptr", PTR), In("stream", STREAM)], "memory", CUSTOM),
    # The application's own data movement: comm replay brings its own data.
    _cuda(220, "cudaMemcpy",
          [In("dst", PTR), In("src", PTR, "const void*"), In("count", SIZE),
           In("kind", MEMCPY_KIND)], "copy", may_block=True),
    _cuda(221, "cudaMemcpyAsync",
          [In("dst", PTR), In("src", PTR, "const void*"), In("count", SIZE),
           In("kind", MEMCPY_KIND), In("stream", STREAM)], "copy"),
    _cuda(222, "cudaMemset", [In("dev_ptr", PTR), In("value", INT), In("count", SIZE)], "copy",
          may_block=True),
    _cuda(223, "cudaMemsetAsync",
          [In("dev_ptr", PTR), In("value", INT), In("count", SIZE), In("stream", STREAM)], "copy"),
    _cuda(230, "cudaStreamCreate", [Out("stream", STREAM)], "stream", ISSUE),
    _cuda(231, "cudaStreamCreateWithFlags", [Out("stream", STREAM), In("flags", FLAGS)], "stream",
          ISSUE),
    _cuda(232, "cudaStreamCreateWithPriority",
          [Out("stream", STREAM), In("flags", FLAGS), In("priority", INT)], "stream", ISSUE),
    _cuda(233, "cudaStreamDestroy", [In("stream", STREAM)], "stream", ISSUE),
    _cuda(234, "cudaStreamSynchronize", [In("stream", STREAM)], "sync", ISSUE),
    # A query that found the work done is where the program waited for it: replay synchronizes.
    _cuda(235, "cudaStreamQuery", [In("stream", STREAM)], "sync", CUSTOM, app=QUERY,
          may_block=False),
    _cuda(236, "cudaStreamWaitEvent", [In("stream", STREAM), In("event", EVENT), In("flags", FLAGS)],
          "sync", ISSUE),
    _cuda(240, "cudaEventCreate", [Out("event", EVENT)], "event", ISSUE),
    _cuda(241, "cudaEventCreateWithFlags", [Out("event", EVENT), In("flags", FLAGS)], "event",
          ISSUE),
    _cuda(242, "cudaEventRecord", [In("event", EVENT), In("stream", STREAM)], "event", ISSUE),
    _cuda(243, "cudaEventSynchronize", [In("event", EVENT)], "sync", ISSUE),
    _cuda(244, "cudaEventQuery", [In("event", EVENT)], "sync", CUSTOM, app=QUERY,
          may_block=False),
    _cuda(245, "cudaEventDestroy", [In("event", EVENT)], "event", ISSUE),
    # A collective captured into a graph runs at each launch without a host call: comm replay
    # leaves graphs out (and says how many collectives were captured).
    _cuda(250, "cudaStreamBeginCapture", [In("stream", STREAM), In("mode", CAPTURE_MODE)],
          "graph"),
    _cuda(251, "cudaStreamEndCapture", [In("stream", STREAM), Out("graph", GRAPH)], "graph"),
    _cuda(252, "cudaGraphInstantiate",
          [Out("graph_exec", GRAPH_EXEC), In("graph", GRAPH),
           In("flags", FLAGS, "unsigned long long")], "graph"),
    _cuda(253, "cudaGraphLaunch", [In("graph_exec", GRAPH_EXEC), In("stream", STREAM)], "graph"),
    _cuda(260, "cudaLaunchKernel",
          [In("func", FUNC), In("grid_dim", DIM3), In("block_dim", DIM3),
           In("shared_mem", SIZE), In("stream", STREAM)], "launch", wrapper=MANUAL),
    _cuda(261, "__cudaLaunchKernel",
          [In("kernel", FUNC), In("grid_dim", DIM3), In("block_dim", DIM3),
           In("shared_mem", SIZE), In("stream", STREAM)], "launch", wrapper=MANUAL),
]

# ---- cuRAND host API: recorded for application replay; comm replay skips it ---------------------
_Q = "CurandStatus"


def _curand(id, name, args, category="rng"):
    return Function(id, name, "curand", args, _Q, category)


def _generate(id, name, ptr_type, extra=()):
    return _curand(id, name, [In("generator", CURAND_GEN), In("output_ptr", PTR, ptr_type),
                              In("n" if extra else "num", SIZE)] + list(extra), "rng_generate")


CURAND = [
    _curand(300, "curandCreateGenerator", [Out("generator", CURAND_GEN), In("rng_type", RNG_TYPE)]),
    _curand(301, "curandCreateGeneratorHost",
            [Out("generator", CURAND_GEN), In("rng_type", RNG_TYPE)]),
    _curand(302, "curandDestroyGenerator", [In("generator", CURAND_GEN)]),
    _curand(303, "curandSetPseudoRandomGeneratorSeed",
            [In("generator", CURAND_GEN), In("seed", UINT64)]),
    _curand(304, "curandSetGeneratorOffset", [In("generator", CURAND_GEN), In("offset", UINT64)]),
    _curand(305, "curandSetStream", [In("generator", CURAND_GEN), In("stream", STREAM)]),
    _generate(310, "curandGenerate", "unsigned int*"),
    _generate(311, "curandGenerateUniform", "float*"),
    _generate(312, "curandGenerateNormal", "float*", [In("mean", FLOAT), In("stddev", FLOAT)]),
    _generate(313, "curandGenerateUniformDouble", "double*"),
    _generate(314, "curandGenerateNormalDouble", "double*",
              [In("mean", DOUBLE), In("stddev", DOUBLE)]),
    _generate(315, "curandGenerateLongLong", "unsigned long long*"),
]

FUNCTIONS = NCCL + CUDART + CURAND

# ---- enums shown by name in dumps (values from the 2.28.9 / 13.0 headers) -----------------------
# Proto enum values share one namespace per package, hence the prefixes.
ENUMS = {
    "NcclResult": [("ncclSuccess", 0), ("ncclUnhandledCudaError", 1), ("ncclSystemError", 2),
                   ("ncclInternalError", 3), ("ncclInvalidArgument", 4), ("ncclInvalidUsage", 5),
                   ("ncclRemoteError", 6), ("ncclInProgress", 7)],
    "NcclDataType": [("ncclInt8", 0), ("ncclUint8", 1), ("ncclInt32", 2), ("ncclUint32", 3),
                     ("ncclInt64", 4), ("ncclUint64", 5), ("ncclFloat16", 6), ("ncclFloat32", 7),
                     ("ncclFloat64", 8), ("ncclBfloat16", 9), ("ncclFloat8e4m3", 10),
                     ("ncclFloat8e5m2", 11)],
    "NcclRedOp": [("ncclSum", 0), ("ncclProd", 1), ("ncclMax", 2), ("ncclMin", 3), ("ncclAvg", 4)],
    "NcclScalarResidence": [("ncclScalarDevice", 0), ("ncclScalarHostImmediate", 1)],
    "CudaMemcpyKind": [("cudaMemcpyHostToHost", 0), ("cudaMemcpyHostToDevice", 1),
                       ("cudaMemcpyDeviceToHost", 2), ("cudaMemcpyDeviceToDevice", 3),
                       ("cudaMemcpyDefault", 4)],
    "CudaStreamCaptureMode": [("cudaStreamCaptureModeGlobal", 0),
                              ("cudaStreamCaptureModeThreadLocal", 1),
                              ("cudaStreamCaptureModeRelaxed", 2)],
    "CurandRngType": [("CURAND_RNG_TEST", 0), ("CURAND_RNG_PSEUDO_DEFAULT", 100),
                      ("CURAND_RNG_PSEUDO_XORWOW", 101), ("CURAND_RNG_PSEUDO_MRG32K3A", 121),
                      ("CURAND_RNG_PSEUDO_MTGP32", 141), ("CURAND_RNG_PSEUDO_MT19937", 142),
                      ("CURAND_RNG_PSEUDO_PHILOX4_32_10", 161),
                      ("CURAND_RNG_QUASI_DEFAULT", 200), ("CURAND_RNG_QUASI_SOBOL32", 201),
                      ("CURAND_RNG_QUASI_SCRAMBLED_SOBOL32", 202),
                      ("CURAND_RNG_QUASI_SOBOL64", 203),
                      ("CURAND_RNG_QUASI_SCRAMBLED_SOBOL64", 204)],
    "CurandStatus": [("CURAND_STATUS_SUCCESS", 0), ("CURAND_STATUS_VERSION_MISMATCH", 100),
                     ("CURAND_STATUS_NOT_INITIALIZED", 101),
                     ("CURAND_STATUS_ALLOCATION_FAILED", 102), ("CURAND_STATUS_TYPE_ERROR", 103),
                     ("CURAND_STATUS_OUT_OF_RANGE", 104),
                     ("CURAND_STATUS_LENGTH_NOT_MULTIPLE", 105),
                     ("CURAND_STATUS_DOUBLE_PRECISION_REQUIRED", 106),
                     ("CURAND_STATUS_LAUNCH_FAILURE", 201),
                     ("CURAND_STATUS_PREEXISTING_FAILURE", 202),
                     ("CURAND_STATUS_INITIALIZATION_FAILED", 203),
                     ("CURAND_STATUS_ARCH_MISMATCH", 204), ("CURAND_STATUS_INTERNAL_ERROR", 999)],
    # The codes a training job meets most; others print as numbers.
    "CudaError": [("cudaSuccess", 0), ("cudaErrorInvalidValue", 1),
                  ("cudaErrorMemoryAllocation", 2), ("cudaErrorInitializationError", 3),
                  ("cudaErrorCudartUnloading", 4), ("cudaErrorInvalidConfiguration", 9),
                  ("cudaErrorInvalidPitchValue", 12), ("cudaErrorInvalidSymbol", 13),
                  ("cudaErrorInvalidDevicePointer", 17), ("cudaErrorInvalidMemcpyDirection", 21),
                  ("cudaErrorInsufficientDriver", 35), ("cudaErrorInvalidDevice", 101),
                  ("cudaErrorNoDevice", 100), ("cudaErrorNoKernelImageForDevice", 209),
                  ("cudaErrorInvalidResourceHandle", 400), ("cudaErrorNotReady", 600),
                  ("cudaErrorIllegalAddress", 700), ("cudaErrorLaunchOutOfResources", 701),
                  ("cudaErrorLaunchTimeout", 702), ("cudaErrorLaunchFailure", 719),
                  ("cudaErrorStreamCaptureUnsupported", 900),
                  ("cudaErrorStreamCaptureInvalidated", 901), ("cudaErrorNotSupported", 801),
                  ("cudaErrorUnknown", 999)],
}


def validate():
    """Ids unique, names unique, every reference resolvable. Run by the generators."""
    ids, names = set(), set()
    for f in FUNCTIONS:
        assert f.id not in ids, f"duplicate function id {f.id} ({f.name})"
        assert f.name not in names, f"duplicate function {f.name}"
        ids.add(f.id)
        names.add(f.name)
        assert 1 <= f.id < 19000, f.name
        first, end = LIBRARY_IDS[f.library]
        assert first <= f.id < end, f"{f.name}: id {f.id} outside {f.library}'s [{first}, {end})"
        assert f.replay in (ISSUE, CUSTOM, SKIP), f.name
        assert f.wrapper in (GENERATED, HOOKED, MANUAL), f.name
        assert f.app in (REAL, PEER, RECORDED, DEVICE, GROUP, QUERY), f.name
        assert f.app != PEER or f.library == "nccl", f.name
        if f.result:
            assert f.result in ENUMS, f"{f.name}: unknown result enum {f.result}"
        arg_names = [a.name for a in f.args]
        for a in f.args:
            if a.type.kind == "ARG_ENUM":
                assert a.type.proto in ENUMS, f"{f.name}.{a.name}: unknown enum {a.type.proto}"
            if a.repeated:
                assert a.count in arg_names, f"{f.name}.{a.name}: no count argument {a.count}"
            if a.derived:
                assert a.expr, f"{f.name}.{a.name}: neither a C parameter nor derived"
            if f.wrapper != MANUAL:
                assert a.derived or a.type.c or a.ctype, f"{f.name}.{a.name}: no C type"
        if f.comm_arg:
            assert f.comm_arg in arg_names, f"{f.name}: no arg {f.comm_arg}"
        if f.category in ("collective", "p2p"):
            assert f.buffers, f"{f.name}: say which buffers it reads and writes"
        for b in f.buffers:
            assert f.category in ("collective", "p2p"), f.name
            assert b.role in ("in", "out") and b.whose in ("all", "root"), (f.name, b.arg)
            assert b.arg in arg_names and b.count in arg_names, (f.name, b.arg, b.count)
            assert b.whose == "all" or "root" in arg_names, f"{f.name}: root-only without a root"
