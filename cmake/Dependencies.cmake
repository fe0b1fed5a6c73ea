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

# Static archives for the long-lived programs. An executable with the target property
# CCREX_STATIC_DEPS links the Debian archives (.a) of gRPC, protobuf, abseil, re2, c-ares,
# upb and zstd instead of their shared libraries; everything else (the test programs)
# links the shared ones. Starting ccrexd with some sixty shared libraries cost about
# 24 ms of CPU and 744 page faults before main() (mostly relocating them), against about
# 10 ms and 400 with the archives, and the idle agent is about 5 MiB smaller (README,
# "Agent memory"). OpenSSL and zlib stay shared, so their security updates need no
# rebuild, as do libstdc++, glibc and cpp-httplib (shipped only as a shared library).
function(_ccrex_prefer_archives out)
  set(result "")
  set(static "$<BOOL:$<TARGET_PROPERTY:CCREX_STATIC_DEPS>>")
  foreach(lib IN LISTS ARGN)
    string(REGEX REPLACE "\\.so$" ".a" archive "${lib}")
    if(CCREX_STATIC_DEPS AND lib MATCHES "\\.so$" AND NOT lib MATCHES "/lib(ssl|crypto|z)\\.so$"
       AND EXISTS "${archive}")
      list(APPEND result "$<${static}:${archive}>" "$<$<NOT:${static}>:${lib}>")
    else()
      list(APPEND result "${lib}")
    endif()
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()
foreach(dep GRPCPP RE2 ZSTD)
  get_target_property(_libs PkgConfig::${dep} INTERFACE_LINK_LIBRARIES)
  _ccrex_prefer_archives(_libs ${_libs})
  set_target_properties(PkgConfig::${dep} PROPERTIES INTERFACE_LINK_LIBRARIES "${_libs}")
endforeach()
# protobuf as FindProtobuf's protobuf::libprotobuf, with the same choice.
add_library(ccrex_protobuf INTERFACE)
target_include_directories(ccrex_protobuf SYSTEM INTERFACE ${Protobuf_INCLUDE_DIRS})
_ccrex_prefer_archives(_libs ${Protobuf_LIBRARY})
target_link_libraries(ccrex_protobuf INTERFACE ${_libs} Threads::Threads)

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
