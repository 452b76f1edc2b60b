// The sections of the config document (lan, wan, registrar, limits, extensions, trunks,
// routing, media, calls, storage, status, log) read into a Config, and the checks between them (a
// route names a trunk that exists, ...). Every problem goes to the Validator's error list.
//
// Threads: whichever thread loads a config.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "b2bua/config/config.h"
#include "b2bua/config/validator.h"

namespace b2bua::config {

// Reads every section of `root` into `c`; relative paths resolve against `config_dir`.
void read_sections(Validator& v, const nlohmann::json& root, Config& c, const std::string& config_dir);

// config_voicemail.cpp: the voicemail section and extensions[].voicemail; needs storage.path
// read first (the message folder defaults to its folder).
void read_voicemail(Validator& v, const nlohmann::json& root, Config& c, const std::string& config_dir);

}  // namespace b2bua::config
