#include "ingest/internal/chunk_buffer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace privacity::ingest::internal {

absl::StatusOr<size_t> MemorySource::Read(char* dst, size_t n) {
  const size_t k = std::min(n, data_.size());
  if (k > 0) std::memcpy(dst, data_.data(), k);
  data_.remove_prefix(k);
  return k;
}

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  return std::unique_ptr<FileSource>(new FileSource(fd, path));
}

FileSource::~FileSource() { ::close(fd_); }

absl::StatusOr<size_t> FileSource::Read(char* dst, size_t n) {
  while (true) {
    const ssize_t k = ::read(fd_, dst, n);
    if (k >= 0) return static_cast<size_t>(k);
    if (errno != EINTR)
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path_));
  }
}

void ChunkBuffer::Reset(ByteSource& source) {
  source_ = &source;
  size_ = 0;
  // A window grown for one long record is not kept for the next input.
  if (capacity_ > 2 * chunk_bytes_) {
    data_.reset();
    capacity_ = 0;
  }
}

void ChunkBuffer::Discard(size_t n) {
  if (n == 0) return;
  std::memmove(data_.get(), data_.get() + n, size_ - n);
  size_ -= n;
}

absl::StatusOr<bool> ChunkBuffer::Fill() {
  if (capacity_ - size_ < chunk_bytes_) {
    // Grow geometrically so a long record costs amortised linear copying.
    const size_t new_capacity = std::max(size_ + chunk_bytes_, capacity_ * 2);
    // Zeroed so the padding never holds uninitialised bytes.
    std::unique_ptr<char[]> grown(new char[new_capacity + kPadding]());
    if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = new_capacity;
  }
  absl::StatusOr<size_t> n = source_->Read(data_.get() + size_, chunk_bytes_);
  if (!n.ok()) return n.status();
  size_ += *n;
  return *n > 0;
}

}  // namespace privacity::ingest::internal
