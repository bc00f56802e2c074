// orchestra: the audience command line. All of it is in tools/cli.h; this
// only gathers what the process knows (streams, terminal, environment).

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>

#include "tools/cli.h"

int main(int argc, char** argv) {
  orchestra::tools::CliEnvironment env;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.out_is_terminal = isatty(STDOUT_FILENO) == 1;
  struct winsize size {};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    env.terminal_width = size.ws_col;
  if (const char* endpoint = std::getenv("ORCHESTRA_ENDPOINT"))
    env.endpoint = endpoint;
  try {
    return orchestra::tools::RunCli(argc, argv, env);
  } catch (const std::exception& e) {
    std::cerr << "orchestra: " << e.what() << "\n";
    return orchestra::tools::kExitUsage;
  }
}
