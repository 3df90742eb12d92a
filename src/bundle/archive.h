// Archives through libarchive: writing a bundle (.tgz / .tar.gz as pax + gzip, .zip), and
// extracting one safely. Extraction writes only regular files and directories, only below
// `dest` (which it creates), and refuses the whole archive (kInvalidArgument, naming the entry)
// when an entry has an absolute path or a `..` component, is a link, device or FIFO, is larger
// than the limit, or when the entries together are: nothing outside `dest` is ever written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ddrr::bundle {

enum class ArchiveFormat { kTgz, kZip };

// From the file name: .tgz / .tar.gz or .zip (the archive types GitHub takes); false otherwise.
bool ArchiveFormatOf(const std::string& path, ArchiveFormat* format);

struct ArchiveMember {
  std::string name;  // path inside the archive ("bug/run/rank-0.ddrr")
  std::string file;  // the file on disk that holds its bytes
};

Status WriteArchive(const std::string& path, ArchiveFormat format,
                    const std::vector<ArchiveMember>& members);

struct ExtractLimits {
  uint64_t max_entry_bytes = 4ull << 30;   // one member
  uint64_t max_total_bytes = 16ull << 30;  // all members
  uint64_t max_entries = 100000;
};

// Extracts `archive` into `dest` (created, mode 0700; must not exist).
Status SafeExtract(const std::string& archive, const std::string& dest,
                   const ExtractLimits& limits = {});

// Whether `path` is a file that starts like a gzip or zip archive.
bool LooksLikeArchive(const std::string& path);

}  // namespace ddrr::bundle
