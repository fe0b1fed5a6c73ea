// ccrex: the thin compiler wrapper. Everything lives in src/client/.
#include "client/client.h"

int main(int argc, char** argv) {
  return ccrex::client::client_main(argc, argv);
}
