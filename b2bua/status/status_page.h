// The status page served at GET /: one self-contained HTML document (inline CSS and script, no
// external assets) that fetches /status and renders it. Edited as status_page.html next to this
// header; the build embeds that file.
#pragma once

#include <string_view>

namespace b2bua::status {

std::string_view status_page_html();

}  // namespace b2bua::status
