#pragma once

// Which output fields of a Command this server reads. REAPI 2.0 names outputs in
// Command.output_files and Command.output_directories; 2.1 added Command.output_paths and
// deprecated the other two. Real engines differ in what they read, and a server that
// advertises a version range (Config::api_versions) reads what that range implies:
//
//   range ends at 2.0 (2.0 only)      output_files + output_directories; output_paths is
//                                     ignored
//   range starts at 2.1 or later      output_paths only; a Command that sets only the 2.0
//                                     fields runs, but nothing is collected for it
//   range spans 2.0 and 2.1+          output_paths when it is non-empty (the spec then
//                                     ignores the 2.0 fields), the 2.0 fields otherwise
//
// The answer is decided once per action (PreparedAction::outputs) and every step that
// looks at outputs (staging writable copies, creating parent directories, collecting)
// follows it. Validation does not: every output field a Command carries must be well
// formed, read or not.

#include "reapi/proto.h"
#include "server/config.h"

#include <string>
#include <vector>

namespace ccrex::server {

enum class OutputFields {
  // Command.output_paths: each entry is collected as whatever the command left there.
  paths,
  // Command.output_files and Command.output_directories: entries of a declared kind.
  files_and_directories,
};

// Return the output fields this server reads for `command` under `versions` (see above).
OutputFields output_fields_read(const reapi::v2::Command& command, const ApiVersions& versions);

// Return every output name (relative to the working directory) in the fields `fields`.
std::vector<std::string> output_names(const reapi::v2::Command& command, OutputFields fields);

// Describe the outputs `command` names that are skipped only because of the server's
// version range (for logs); empty when nothing the client asked for is skipped that way.
std::string ignored_outputs_note(const reapi::v2::Command& command,
                                 OutputFields fields,
                                 const ApiVersions& versions);

} // namespace ccrex::server
