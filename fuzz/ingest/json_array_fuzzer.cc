// libFuzzer target: arbitrary bytes read as a JSON array by RecordReader::ReadBuffer.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  privacity::ingest::fuzz::CheckReader(data, size,
                                       privacity::ingest::InputFormat::kJsonArray);
  return 0;
}
