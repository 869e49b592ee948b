#include "audit/checkpoint.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace privacity::audit {
namespace {

absl::Status CheckLine(absl::string_view line, absl::string_view what) {
  if (line.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  for (const char c : line) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " contains a newline or control character"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ParseTreeSize(absl::string_view text) {
  uint64_t size = 0;
  const bool digits_only =
      !text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits_only || (text.size() > 1 && text[0] == '0') ||
      !absl::SimpleAtoi(text, &size)) {
    return absl::InvalidArgumentError(
        "checkpoint line 2 is not a tree size (decimal, no leading zeros)");
  }
  if (size > kMaxTreeSize) {
    return absl::InvalidArgumentError("checkpoint tree size exceeds the maximum 2^62");
  }
  return size;
}

}  // namespace

absl::StatusOr<std::string> FormatCheckpoint(const Checkpoint& checkpoint) {
  RETURN_IF_ERROR(CheckLine(checkpoint.origin, "checkpoint origin"));
  std::string out = absl::StrCat(checkpoint.origin, "\n", checkpoint.size, "\n",
                                 HashToBase64(checkpoint.root), "\n");
  for (const std::string& line : checkpoint.extensions) {
    RETURN_IF_ERROR(CheckLine(line, "checkpoint extension line"));
    absl::StrAppend(&out, line, "\n");
  }
  RETURN_IF_ERROR(ValidateNoteText(out));
  return out;
}

absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text) {
  RETURN_IF_ERROR(ValidateNoteText(text));
  text.remove_suffix(1);  // the final newline
  const std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError(
        "checkpoint has fewer than three lines (origin, size, root)");
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint line ", i + 1, " is empty"));
    }
  }
  Checkpoint out;
  out.origin = std::string(lines[0]);
  ASSIGN_OR_RETURN(out.size, ParseTreeSize(lines[1]));
  absl::StatusOr<Hash> root = HashFromBase64(lines[2]);
  if (!root.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint line 3 is not a root hash: ", root.status().message()));
  }
  out.root = *root;
  for (size_t i = 3; i < lines.size(); ++i) out.extensions.emplace_back(lines[i]);
  return out;
}

absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                           const NoteSigner& signer) {
  ASSIGN_OR_RETURN(const std::string text, FormatCheckpoint(checkpoint));
  return SignNote(text, signer);
}

absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view note,
                                          const NoteVerifier& log_key,
                                          absl::string_view origin) {
  const NoteVerifier* const keys[] = {&log_key};
  ASSIGN_OR_RETURN(const OpenedNote opened, OpenNote(note, keys));
  ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpoint(opened.text));
  if (checkpoint.origin != origin) {
    return absl::InvalidArgumentError("checkpoint is for another origin than the log's");
  }
  return checkpoint;
}

}  // namespace privacity::audit
