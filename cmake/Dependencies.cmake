# Third-party libraries, all from Debian 12 packages (scripts/install-deps.sh).
# libgrpc++-dev and libre2-dev ship only pkg-config files; protobuf is found through
# CMake's FindProtobuf; gRPC's own CMake config is avoided because it insists on every
# plugin binary being installed.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(OpenSSL REQUIRED)
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
# libcpp-httplib-dev: ccrex-server's status port (HTTP, as in ccache). Debian builds it as a
# shared library and ships a pkg-config file.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# libzstd-dev: zstd compression (ccache's choice, and the compressor REAPI names).
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

if(CCREX_ENABLE_TESTS)
  find_package(GTest REQUIRED)
endif()

# Where Debian's bazel-bootstrap-source installs the official REAPI and googleapis protos.
set(CCREX_PROTO_ROOT "/usr/src/bazel-bootstrap/third_party"
    CACHE PATH "Directory holding remoteapis/ and googleapis/ proto trees")
if(NOT EXISTS "${CCREX_PROTO_ROOT}/remoteapis/build/bazel/remote/execution/v2/remote_execution.proto")
  message(FATAL_ERROR "REAPI protos not found under ${CCREX_PROTO_ROOT}; "
                      "run scripts/install-deps.sh (package bazel-bootstrap-source)")
endif()
