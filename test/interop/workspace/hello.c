/* Compiled remotely by Bazel; the object must equal a local `gcc -c hello.c`. */
int ccrex_interop_answer(void) {
  return 42;
}

const char* ccrex_interop_greeting(void) {
  return "hello from the remote worker";
}
