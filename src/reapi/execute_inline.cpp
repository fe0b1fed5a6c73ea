#include "reapi/execute_inline.h"

#include <google/protobuf/unknown_field_set.h>

namespace ccrex::reapi {
namespace {

bool is_hint(int number) {
  return number == k_execute_inline_stdout_field || number == k_execute_inline_stderr_field
         || number == k_execute_inline_output_files_field;
}

} // namespace

void set_execute_inline(v2::ExecuteRequest& request, const InlineOptions& options) {
  auto* unknown = request.GetReflection()->MutableUnknownFields(&request);
  for (int i = unknown->field_count() - 1; i >= 0; --i) {
    if (is_hint(unknown->field(i).number())) {
      unknown->DeleteSubrange(i, 1);
    }
  }
  // proto3 leaves false booleans off the wire; so does this.
  if (options.inline_stdout) {
    unknown->AddVarint(k_execute_inline_stdout_field, 1);
  }
  if (options.inline_stderr) {
    unknown->AddVarint(k_execute_inline_stderr_field, 1);
  }
  for (const auto& path : options.inline_output_files) {
    unknown->AddLengthDelimited(k_execute_inline_output_files_field, path);
  }
}

InlineOptions execute_inline_of(const v2::ExecuteRequest& request) {
  InlineOptions out;
  const auto& unknown = request.GetReflection()->GetUnknownFields(request);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const auto& field = unknown.field(i);
    using Type = google::protobuf::UnknownField::Type;
    // The last occurrence of a scalar wins, as in any proto parser; a field of the wrong
    // wire type is not the hint and is ignored.
    if (field.number() == k_execute_inline_stdout_field && field.type() == Type::TYPE_VARINT) {
      out.inline_stdout = field.varint() != 0;
    } else if (field.number() == k_execute_inline_stderr_field
               && field.type() == Type::TYPE_VARINT) {
      out.inline_stderr = field.varint() != 0;
    } else if (field.number() == k_execute_inline_output_files_field
               && field.type() == Type::TYPE_LENGTH_DELIMITED) {
      out.inline_output_files.push_back(field.length_delimited());
    }
  }
  return out;
}

} // namespace ccrex::reapi
