// entropy_probe: draws entropy from every source libddrr.so captures and prints the bytes, one
// line per source ("<source> <hex>"), so entropy_test.sh can compare them with the trace.
// ncclGetVersion comes first: it starts the recorder, and entropy is only recorded after that.
#include <fcntl.h>
#include <nccl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <random>

namespace {

void Print(const char* source, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::printf("%s ", source);
  for (size_t i = 0; i < n; ++i) std::printf("%02x", p[i]);
  std::printf("\n");
}

}  // namespace

int main() {
  int version = 0;
  if (ncclGetVersion(&version) != ncclSuccess) return 2;

  unsigned char buf[24];
  if (getrandom(buf, 16, 0) != 16) return 3;
  Print("getrandom", buf, 16);

  if (getentropy(buf, 20) != 0) return 4;
  Print("getentropy", buf, 20);

  if (syscall(SYS_getrandom, buf, 12, 0) != 12) return 5;
  Print("syscall_getrandom", buf, 12);

  // As PyTorch seeds its CPU generator: open + an 8-byte read.
  const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, buf, 8) != 8) return 6;
  close(fd);
  Print("dev_urandom", buf, 8);

  std::random_device rd;
  const unsigned int v = rd();
  Print("random_device", &v, sizeof(v));
  return 0;
}
