# ccrex_generate_protos(OUT_SRCS OUT_HDRS IMPORT_DIRS dirs... PROTOS files... GRPC files...)
#
# Run protoc (messages) and grpc_cpp_plugin (services, with gMock stubs) at build time.
# PROTOS are paths relative to one of IMPORT_DIRS; GRPC is the subset that declares services.
function(ccrex_generate_protos out_srcs out_hdrs)
  cmake_parse_arguments(ARG "" "" "IMPORT_DIRS;PROTOS;GRPC" ${ARGN})
  set(gen_dir "${CMAKE_CURRENT_BINARY_DIR}/gen")
  set(include_flags "")
  foreach(dir ${ARG_IMPORT_DIRS})
    list(APPEND include_flags "-I${dir}")
  endforeach()
  list(APPEND include_flags "-I${Protobuf_INCLUDE_DIRS}")

  set(srcs "")
  set(hdrs "")
  foreach(proto ${ARG_PROTOS})
    set(abs "")
    foreach(dir ${ARG_IMPORT_DIRS})
      if(EXISTS "${dir}/${proto}")
        set(abs "${dir}/${proto}")
        break()
      endif()
    endforeach()
    if(NOT abs)
      message(FATAL_ERROR "proto ${proto} not found in ${ARG_IMPORT_DIRS}")
    endif()
    string(REGEX REPLACE "\\.proto$" "" stem "${proto}")
    set(outputs "${gen_dir}/${stem}.pb.cc" "${gen_dir}/${stem}.pb.h")
    set(args --cpp_out=${gen_dir})
    if(proto IN_LIST ARG_GRPC)
      list(APPEND outputs "${gen_dir}/${stem}.grpc.pb.cc" "${gen_dir}/${stem}.grpc.pb.h"
           "${gen_dir}/${stem}_mock.grpc.pb.h")
      list(APPEND args --grpc_out=generate_mock_code=true:${gen_dir}
           --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${gen_dir}
      COMMAND protobuf::protoc ${include_flags} ${args} ${abs}
      DEPENDS ${abs} protobuf::protoc
      COMMENT "Generating C++ from ${proto}"
      VERBATIM)
    foreach(out ${outputs})
      if(out MATCHES "\\.cc$")
        list(APPEND srcs ${out})
      else()
        list(APPEND hdrs ${out})
      endif()
    endforeach()
  endforeach()
  set(${out_srcs} ${srcs} PARENT_SCOPE)
  set(${out_hdrs} ${hdrs} PARENT_SCOPE)
endfunction()
