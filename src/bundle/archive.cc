#include "bundle/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace ddrr::bundle {
namespace {

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

struct ReadCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};

// The entry's path split into its components, or why it is refused.
Status SplitPath(const char* raw, std::vector<std::string>* parts) {
  if (!raw || !*raw) return Status::InvalidArgument("an entry has no name");
  const std::string name(raw);
  if (name[0] == '/') return Status::InvalidArgument("entry '" + name + "' has an absolute path");
  if (name.find('\\') != std::string::npos)
    return Status::InvalidArgument("entry '" + name + "' has a backslash in its path");
  size_t at = 0;
  while (at <= name.size()) {
    size_t slash = name.find('/', at);
    if (slash == std::string::npos) slash = name.size();
    const std::string part = name.substr(at, slash - at);
    if (part == "..") return Status::InvalidArgument("entry '" + name + "' climbs out with '..'");
    if (!part.empty() && part != ".") parts->push_back(part);
    at = slash + 1;
  }
  if (parts->empty()) return Status::InvalidArgument("entry '" + name + "' names no file");
  return Status::Ok();
}

// Creates dest/parts[0]/.../parts[n-1] as directories (they may exist, as directories).
Status MakeDirs(const std::string& dest, const std::vector<std::string>& parts, size_t n) {
  std::string path = dest;
  for (size_t i = 0; i < n; ++i) {
    path += "/" + parts[i];
    if (mkdir(path.c_str(), 0700) == 0) continue;
    struct stat st {};
    if (errno != EEXIST || lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return Status::InvalidArgument("entry path " + path + " is both a file and a folder");
  }
  return Status::Ok();
}

Status ExtractEntries(archive* a, const std::string& dest, const ExtractLimits& limits) {
  archive_entry* entry = nullptr;
  uint64_t entries = 0, total = 0;
  for (;;) {
    const int r = archive_read_next_header(a, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return Status::InvalidArgument(std::string("cannot read the archive: ") +
                                     archive_error_string(a));
    if (++entries > limits.max_entries)
      return Status::InvalidArgument("more than " + std::to_string(limits.max_entries) +
                                     " entries");
    std::vector<std::string> parts;
    DDRR_RETURN_IF_ERROR(SplitPath(archive_entry_pathname(entry), &parts));
    const std::string name = archive_entry_pathname(entry);
    if (archive_entry_hardlink(entry) || archive_entry_symlink(entry))
      return Status::InvalidArgument("entry '" + name + "' is a link");
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      DDRR_RETURN_IF_ERROR(MakeDirs(dest, parts, parts.size()));
      continue;
    }
    if (type != AE_IFREG)
      return Status::InvalidArgument("entry '" + name +
                                     "' is not a regular file (a link, device or FIFO)");
    const uint64_t declared =
        archive_entry_size_is_set(entry) ? static_cast<uint64_t>(archive_entry_size(entry)) : 0;
    if (declared > limits.max_entry_bytes)
      return Status::InvalidArgument("entry '" + name + "' is " + std::to_string(declared >> 20) +
                                     " MiB, over the limit of " +
                                     std::to_string(limits.max_entry_bytes >> 20) + " MiB");
    DDRR_RETURN_IF_ERROR(MakeDirs(dest, parts, parts.size() - 1));
    std::string path = dest;
    for (const std::string& p : parts) path += "/" + p;
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) return Status::InvalidArgument("entry '" + name + "' appears twice");
      return Status::FromErrno("cannot extract " + name + " into " + dest, errno);
    }
    Status st = Status::Ok();
    for (;;) {
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      const int rr = archive_read_data_block(a, &buf, &size, &offset);
      if (rr == ARCHIVE_EOF) break;
      if (rr != ARCHIVE_OK && rr != ARCHIVE_WARN) {
        st = Status::InvalidArgument("entry '" + name + "' is damaged: " + archive_error_string(a));
        break;
      }
      const uint64_t end = static_cast<uint64_t>(offset) + size;
      if (offset < 0 || end > limits.max_entry_bytes) {
        st = Status::InvalidArgument("entry '" + name + "' holds more than the limit of " +
                                     std::to_string(limits.max_entry_bytes >> 20) + " MiB");
        break;
      }
      total += size;
      if (total > limits.max_total_bytes) {
        st = Status::InvalidArgument("the entries hold more than the limit of " +
                                     std::to_string(limits.max_total_bytes >> 20) + " MiB");
        break;
      }
      if (size && pwrite(fd, buf, size, offset) != static_cast<ssize_t>(size)) {
        st = Status::FromErrno("cannot extract " + name + " into " + dest, errno);
        break;
      }
    }
    if (close(fd) != 0 && st.ok()) st = Status::FromErrno("cannot extract " + name, errno);
    DDRR_RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

}  // namespace

bool ArchiveFormatOf(const std::string& path, ArchiveFormat* format) {
  if (EndsWith(path, ".tgz") || EndsWith(path, ".tar.gz")) {
    *format = ArchiveFormat::kTgz;
    return true;
  }
  if (EndsWith(path, ".zip")) {
    *format = ArchiveFormat::kZip;
    return true;
  }
  return false;
}

Status WriteArchive(const std::string& path, ArchiveFormat format,
                    const std::vector<ArchiveMember>& members) {
  std::unique_ptr<archive, WriteCloser> a(archive_write_new());
  auto failed = [&](const std::string& what) {
    return Status::IoError("cannot write " + path + ": " + what + ": " +
                           (archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
  };
  if (format == ArchiveFormat::kZip) {
    if (archive_write_set_format_zip(a.get()) != ARCHIVE_OK) return failed("zip");
  } else if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
             archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) {
    return failed("tar.gz");
  }
  if (archive_write_open_filename(a.get(), path.c_str()) != ARCHIVE_OK) return failed("open");
  std::vector<char> buf(1 << 20);
  const time_t now = time(nullptr);
  for (const ArchiveMember& m : members) {
    std::FILE* in = std::fopen(m.file.c_str(), "rb");
    if (!in) return Status::FromErrno("cannot read " + m.file, errno);
    struct stat st {};
    fstat(fileno(in), &st);
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    archive_entry_set_pathname(e.get(), m.name.c_str());
    archive_entry_set_size(e.get(), st.st_size);
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_mtime(e.get(), now, 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      std::fclose(in);
      return failed(m.name);
    }
    size_t n;
    bool ok = true;
    while (ok && (n = std::fread(buf.data(), 1, buf.size(), in)) > 0)
      ok = archive_write_data(a.get(), buf.data(), n) == static_cast<la_ssize_t>(n);
    std::fclose(in);
    if (!ok) return failed(m.name);
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return failed("close");
  return Status::Ok();
}

Status SafeExtract(const std::string& archive_path, const std::string& dest,
                   const ExtractLimits& limits) {
  std::unique_ptr<archive, ReadCloser> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK)
    return Status::InvalidArgument(archive_path + " is not a .tgz or .zip archive (" +
                                   archive_error_string(a.get()) + ")");
  if (mkdir(dest.c_str(), 0700) != 0) return Status::FromErrno("cannot create " + dest, errno);
  Status st = ExtractEntries(a.get(), dest, limits);
  if (!st.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(dest, ec);
    return Status::InvalidArgument(archive_path + ": " + st.message() +
                                   "; refused, nothing extracted (a bundle holds only regular "
                                   "files below one folder; make one with `ddrr bundle`)");
  }
  return Status::Ok();
}

bool LooksLikeArchive(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  unsigned char m[4] = {};
  const size_t n = std::fread(m, 1, 4, f);
  std::fclose(f);
  return (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) ||
         (n == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4);
}

}  // namespace ddrr::bundle
