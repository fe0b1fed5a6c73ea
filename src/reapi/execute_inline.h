#pragma once

// The inline hints of an ExecuteRequest. REAPI 2.9 gave ExecuteRequest the same hints as
// GetActionResultRequest: inline_stdout (field 10), inline_stderr (11) and
// inline_output_files (12), asking the server to put small outputs in the ExecuteResponse's
// ActionResult (stdout_raw, stderr_raw, OutputFile.contents) so that a miss needs no read
// after Execute. The proto this project compiles predates 2.9, so the fields travel as
// unknown fields with exactly the numbers and wire types the spec gives them.
//
// They are hints both ways: a server before 2.9 keeps them as unknown fields and inlines
// nothing, and a client that does not send them (Bazel, older ccrex) gets nothing inlined.
// A client must still verify inlined bytes against their digest before using them.

#include "reapi/action_cache_client.h"
#include "reapi/proto.h"

namespace ccrex::reapi {

// Field numbers of the hints in build.bazel.remote.execution.v2.ExecuteRequest (2.9).
inline constexpr int k_execute_inline_stdout_field = 10;
inline constexpr int k_execute_inline_stderr_field = 11;
inline constexpr int k_execute_inline_output_files_field = 12;

// Ask, in `request`, for what `options` names inline (replacing any earlier hints).
void set_execute_inline(v2::ExecuteRequest& request, const InlineOptions& options);

// Return the inline hints `request` carries (none when it sets none).
InlineOptions execute_inline_of(const v2::ExecuteRequest& request);

} // namespace ccrex::reapi
