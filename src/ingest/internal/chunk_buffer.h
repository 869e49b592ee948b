// Internal to the ingest module: byte sources and the sliding window the
// record scanners work on.
#ifndef PRIVACITY_INGEST_INTERNAL_CHUNK_BUFFER_H_
#define PRIVACITY_INGEST_INTERNAL_CHUNK_BUFFER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace privacity::ingest::internal {

// Bytes readable after the end of the data, as simdjson requires.
inline constexpr size_t kPadding = 64;

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Copies up to `n` bytes into `dst`; returns how many, 0 at the end.
  virtual absl::StatusOr<size_t> Read(char* dst, size_t n) = 0;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(absl::string_view data) : data_(data) {}
  absl::StatusOr<size_t> Read(char* dst, size_t n) override;

 private:
  absl::string_view data_;
};

class FileSource final : public ByteSource {
 public:
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(const std::string& path);
  ~FileSource() override;
  absl::StatusOr<size_t> Read(char* dst, size_t n) override;

 private:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_;
  std::string path_;
};

// A window over the input: data()[0, size()) are the bytes not yet
// discarded, always followed by kPadding readable bytes.
class ChunkBuffer {
 public:
  explicit ChunkBuffer(size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {}

  // Starts over on a new source. REQUIRES: `source` outlives the use.
  void Reset(ByteSource& source);

  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }

  // Drops the first `n` bytes. REQUIRES: n <= size().
  void Discard(size_t n);

  // Appends up to chunk_bytes from the source, growing the window when it
  // is full. Returns false when the source is exhausted.
  absl::StatusOr<bool> Fill();

 private:
  size_t chunk_bytes_;
  ByteSource* source_ = nullptr;
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;  // excluding the padding
  size_t size_ = 0;
};

}  // namespace privacity::ingest::internal

#endif  // PRIVACITY_INGEST_INTERNAL_CHUNK_BUFFER_H_
