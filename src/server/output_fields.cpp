#include "server/output_fields.h"

namespace ccrex::server {

OutputFields output_fields_read(const reapi::v2::Command& command, const ApiVersions& versions) {
  if (versions.high_minor < 1) {
    return OutputFields::files_and_directories;
  }
  if (versions.low_minor >= 1 || command.output_paths_size() > 0) {
    return OutputFields::paths;
  }
  return OutputFields::files_and_directories;
}

std::vector<std::string> output_names(const reapi::v2::Command& command, OutputFields fields) {
  std::vector<std::string> out;
  if (fields == OutputFields::paths) {
    out.assign(command.output_paths().begin(), command.output_paths().end());
    return out;
  }
  out.reserve(static_cast<size_t>(command.output_files_size())
              + static_cast<size_t>(command.output_directories_size()));
  out.insert(out.end(), command.output_files().begin(), command.output_files().end());
  out.insert(out.end(), command.output_directories().begin(), command.output_directories().end());
  return out;
}

std::string ignored_outputs_note(const reapi::v2::Command& command,
                                 OutputFields fields,
                                 const ApiVersions& versions) {
  const bool has_legacy = command.output_files_size() + command.output_directories_size() > 0;
  if (fields == OutputFields::files_and_directories && command.output_paths_size() > 0) {
    return "output_paths ignored: this server speaks REAPI " + versions.to_string()
           + ", which has only output_files and output_directories";
  }
  if (fields == OutputFields::paths && command.output_paths_size() == 0 && has_legacy) {
    return "output_files and output_directories ignored: this server speaks REAPI "
           + versions.to_string() + ", which reads only output_paths";
  }
  return {};
}

} // namespace ccrex::server
