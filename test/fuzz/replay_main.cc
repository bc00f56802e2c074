// The replay driver of `make test`: runs one fuzz target (linked beside this
// file, compiled with g++, no libFuzzer needed) over the files and
// directories named on the command line, each file once, as libFuzzer would
// run a corpus. A crash, a sanitizer report or a failed FUZZ_CHECK ends it
// with the name of the input that caused it.

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Defined by the sanitizer runtimes when a build uses them (SANITIZE=1).
extern "C" void __sanitizer_set_death_callback(void (*callback)(void))
    __attribute__((weak));

namespace {

const char* current_input = nullptr;  // The file being replayed.

void SayWhichInput() {
  if (current_input == nullptr) return;
  const char* prefix = "fuzz replay: failed on input ";
  if (::write(2, prefix, std::strlen(prefix)) < 0 ||
      ::write(2, current_input, std::strlen(current_input)) < 0 ||
      ::write(2, "\n", 1) < 0)
    return;
}

void OnFatalSignal(int signal) {
  SayWhichInput();
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

// The regular files `path` names: itself, or those of a directory, sorted.
std::vector<std::string> Inputs(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  if (!S_ISDIR(st.st_mode)) return {path};
  std::vector<std::string> files;
  if (DIR* dir = ::opendir(path.c_str())) {
    while (struct dirent* entry = ::readdir(dir)) {
      const std::string file = path + "/" + entry->d_name;
      if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode))
        files.push_back(file);
    }
    ::closedir(dir);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

int main(int argc, char** argv) {
  for (int signal : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
    ::signal(signal, OnFatalSignal);
  if (__sanitizer_set_death_callback)
    __sanitizer_set_death_callback(SayWhichInput);
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::vector<std::string> files = Inputs(argv[i]);
    if (files.empty()) {
      std::fprintf(stderr, "%s: no inputs in %s\n", argv[0], argv[i]);
      return 1;
    }
    for (const std::string& file : files) {
      const std::string input = ReadAll(file);
      current_input = file.c_str();
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                             input.size());
      current_input = nullptr;
      ++replayed;
    }
  }
  std::printf("%s: replayed %zu inputs\n", argv[0], replayed);
  return 0;
}
