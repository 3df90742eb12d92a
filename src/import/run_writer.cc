#include "import/run_writer.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/mix.h"
#include "spec/api_encode.h"
#include "trace/format.h"

namespace ddrr::import {

Status PrepareRunDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::IoError("cannot create " + dir + ": " + strerror(errno) +
                           "; pick an output directory you can write to");
  DIR* d = opendir(dir.c_str());
  if (!d)
    return Status::IoError(dir + " is not a directory that can be read (" + strerror(errno) +
                           "); pick another output directory");
  bool has_ranks = false;
  while (dirent* e = readdir(d))
    if (strncmp(e->d_name, "rank-", 5) == 0) has_ranks = true;
  closedir(d);
  if (has_ranks)
    return Status::InvalidArgument(dir + " already holds rank files; pick a new output directory");
  return Status::Ok();
}

void EncodeOp(trace::WireEncoder& e, const OpArgs& a) {
  switch (a.fn) {
    case OpFn::kAllReduce:
      return trace::EncodeNcclAllReduce(e, a.sendbuff, a.recvbuff, a.count, a.datatype, a.op,
                                        a.comm, a.stream);
    case OpFn::kBroadcast:
      return trace::EncodeNcclBroadcast(e, a.sendbuff, a.recvbuff, a.count, a.datatype, a.root,
                                        a.comm, a.stream);
    case OpFn::kReduce:
      return trace::EncodeNcclReduce(e, a.sendbuff, a.recvbuff, a.count, a.datatype, a.op, a.root,
                                     a.comm, a.stream);
    case OpFn::kAllGather:
      return trace::EncodeNcclAllGather(e, a.sendbuff, a.recvbuff, a.count, a.datatype, a.comm,
                                        a.stream);
    case OpFn::kReduceScatter:
      return trace::EncodeNcclReduceScatter(e, a.sendbuff, a.recvbuff, a.count, a.datatype, a.op,
                                            a.comm, a.stream);
    case OpFn::kAlltoAll:
      return trace::EncodeNcclAlltoAll(e, a.sendbuff, a.recvbuff, a.count, a.datatype, a.comm,
                                       a.stream);
    case OpFn::kGather:
      return trace::EncodeNcclGather(e, a.sendbuff, a.recvbuff, a.count, a.datatype, a.root, a.comm,
                                     a.stream);
    case OpFn::kScatter:
      return trace::EncodeNcclScatter(e, a.sendbuff, a.recvbuff, a.count, a.datatype, a.root,
                                      a.comm, a.stream);
    case OpFn::kSend:
      return trace::EncodeNcclSend(e, a.sendbuff, a.count, a.datatype, a.root, a.comm, a.stream);
    case OpFn::kRecv:
      return trace::EncodeNcclRecv(e, a.recvbuff, a.count, a.datatype, a.root, a.comm, a.stream);
  }
}

bool TorchOpFn(const std::string& profiling_name, OpFn* fn, int64_t* peer) {
  std::string n = profiling_name;
  if (size_t c = n.find(':'); c != std::string::npos) n = n.substr(c + 1);
  const size_t sp = n.find(' ');
  const std::string word = n.substr(0, sp);
  if (sp != std::string::npos) {
    // The peer is the last number: "0->3" sends to 3, "3<-0" receives from 0.
    size_t e = n.size();
    while (e > sp && !isdigit(static_cast<unsigned char>(n[e - 1]))) --e;
    size_t b = e;
    while (b > sp && isdigit(static_cast<unsigned char>(n[b - 1]))) --b;
    if (b < e && e - b <= 9) *peer = std::stoll(n.substr(b, e - b));
  }
  auto has = [&](const char* s) { return word.find(s) != std::string::npos; };
  if (word == "send") return *fn = OpFn::kSend, true;
  if (word == "recv") return *fn = OpFn::kRecv, true;
  if (has("reduce_scatter")) return *fn = OpFn::kReduceScatter, true;
  if (has("allgather") || has("all_gather")) return *fn = OpFn::kAllGather, true;
  if (has("all_reduce") || has("allreduce") || word == "barrier")
    return *fn = OpFn::kAllReduce, true;
  if (has("alltoall") || has("all_to_all")) return *fn = OpFn::kAlltoAll, true;
  if (word == "broadcast") return *fn = OpFn::kBroadcast, true;
  if (word == "reduce") return *fn = OpFn::kReduce, true;
  if (word == "gather") return *fn = OpFn::kGather, true;
  if (word == "scatter") return *fn = OpFn::kScatter, true;
  return false;
}

int64_t RankFromFileName(const std::string& path) {
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (size_t dot = base.rfind('.'); dot != std::string::npos && dot > 0) {
    const std::string ext = base.substr(dot + 1);
    if (ext == "pkl" || ext == "pickle" || ext == "json" || ext == "log" || ext == "txt" ||
        ext == "out" || ext == "err")
      base = base.substr(0, dot);
  }
  size_t b = base.size();
  while (b > 0 && isdigit(static_cast<unsigned char>(base[b - 1]))) --b;
  if (b == base.size() || base.size() - b > 9) return -1;
  return std::stoll(base.substr(b));
}

uint64_t CommKey(uint64_t a, uint64_t b, uint64_t c) {
  const uint64_t k = Mix64(a ^ Mix64(b ^ Mix64(c ^ 0x1d90c0a1e5ull)));
  return k ? k : 1;
}

StatusOr<std::unique_ptr<RankWriter>> RankWriter::Create(const std::string& dir,
                                                         trace::HeaderInfo header,
                                                         const Source& source) {
  std::string unknown;
  for (const std::string& u : source.unknown) unknown += (unknown.empty() ? "" : ",") + u;
  header.env[kEnvFormat] = source.format;
  if (!source.version.empty()) header.env[kEnvVersion] = source.version;
  header.env[kEnvFile] = source.file;
  if (!unknown.empty()) header.env[kEnvUnknown] = unknown;
  if (header.ddrr_version.empty()) header.ddrr_version = "import";
  if (header.run_id.empty()) header.run_id = "import-" + source.format;
  const std::string path = dir + "/rank-" + std::to_string(header.rank) + ".ddrr";
  DDRR_ASSIGN_OR_RETURN(auto w, trace::TraceWriter::Create(path, header));
  std::unique_ptr<RankWriter> rw(new RankWriter(std::move(w)));
  std::string note = "imported from " + source.format;
  if (!source.version.empty()) note += " " + source.version;
  note += " file " + source.file;
  if (!unknown.empty()) note += "; unknown: " + unknown;
  DDRR_RETURN_IF_ERROR(rw->Note(note));
  return rw;
}

void RankWriter::SetTime(uint64_t time_ns) {
  if (time_ns > time_) time_ = time_ns;
}

StatusOr<uint64_t> RankWriter::Append(uint64_t comm_key, uint64_t op_seq) {
  // Events of one rank keep distinct, increasing times (1 us apart when the source has none).
  const uint64_t t = time_ > last_time_ ? time_ : last_time_ + 1000;
  last_time_ = t;
  trace::EventMeta meta;
  meta.comm_key = comm_key;
  meta.op_seq = op_seq;
  DDRR_RETURN_IF_ERROR(w_->Append(++seq_, 0, t, scratch_.view(), &meta));
  return seq_;
}

Status RankWriter::Completion(uint64_t call_seq, uint64_t comm_key, uint64_t op_seq) {
  scratch_.Clear();
  trace::EncodeCompletionBody(scratch_, seq_ + 1 - call_seq, comm_key, 0, 0, op_seq);
  return Append(0, 0).status();
}

Status RankWriter::Note(std::string_view text) {
  scratch_.Clear();
  trace::EncodeNoteBody(scratch_, text, 0);
  return Append(0, 0).status();
}

Status RankWriter::Close(bool ended) {
  if (!ended) return w_->Abandon();
  trace::FooterInfo f;
  f.end_reason = trace::kEndClosed;  // the source ended here
  f.end_time_ns = last_time_;
  return w_->Close(f);
}

}  // namespace ddrr::import
