# ccrex_settings: language level, sanitizers and coverage for ccrex's own targets.
# Linked PRIVATE into our targets; never into the generated protobuf library.
add_library(ccrex_settings INTERFACE)
target_compile_features(ccrex_settings INTERFACE cxx_std_20)
target_compile_definitions(ccrex_settings INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)

set(_ccrex_sanitizers "")
if(CCREX_ENABLE_ASAN)
  list(APPEND _ccrex_sanitizers address)
endif()
if(CCREX_ENABLE_UBSAN)
  list(APPEND _ccrex_sanitizers undefined)
endif()
if(CCREX_ENABLE_TSAN)
  if(CCREX_ENABLE_ASAN)
    message(FATAL_ERROR "ThreadSanitizer and AddressSanitizer cannot be combined")
  endif()
  list(APPEND _ccrex_sanitizers thread)
endif()
if(_ccrex_sanitizers)
  list(JOIN _ccrex_sanitizers "," _ccrex_sanitize_flag)
  # Sanitizers apply to every target (including generated code) so that the runtime
  # and the instrumented code agree on container annotations and allocation.
  add_compile_options(-fsanitize=${_ccrex_sanitize_flag} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_ccrex_sanitize_flag})
  # Position-dependent executables: an instrumented PIE carries about two million relative
  # relocations (ASan's global metadata), which the loader applies at every start (0.27 s
  # for ccrexd --version, 0.11 s without). The suite starts agents and servers hundreds of
  # times. Release builds stay PIE.
  add_link_options($<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:-no-pie>)
endif()

if(CCREX_ENABLE_COVERAGE)
  target_compile_options(ccrex_settings INTERFACE --coverage)
  target_link_options(ccrex_settings INTERFACE --coverage)
endif()
