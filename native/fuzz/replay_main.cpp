// The fuzz targets outside a libFuzzer build: run LLVMFuzzerTestOneInput on every file of the
// given corpus directories (or files), so that the release, ASan+UBSan and TSan builds replay
// each corpus, crashes found earlier included, as a regression test.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

static int run_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    return 1;
  }
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // An exactly sized heap copy, so that ASan sees a read past the end.
  std::vector<uint8_t> exact(data.begin(), data.end());
  LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
  return 0;
}

int main(int argc, char** argv) {
  size_t n = 0;
  int bad = 0;
  for (int i = 1; i < argc; i++) {
    const fs::path arg(argv[i]);
    if (fs::is_directory(arg)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::recursive_directory_iterator(arg))
        if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) bad |= run_file(f), n++;
    } else {
      bad |= run_file(arg), n++;
    }
  }
  if (n == 0) {
    std::fprintf(stderr, "replay: no inputs (give corpus directories or files)\n");
    return 1;
  }
  std::printf("replay: %zu inputs, no crash\n", n);
  return bad;
}
