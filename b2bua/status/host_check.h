// DNS rebinding: a web page from the internet, opened in a browser on the LAN, can point its
// own name at 127.0.0.1 or the router's address and then read the status endpoint as "same
// origin". The browser still sends that name in the Host header, so the endpoint answers only
// requests whose Host is an IP literal, localhost, or a name the admin listed
// (status.allowed_hosts). A request without Host (HTTP/1.0, scripts) passes: browsers always
// send one. Pure function: any thread.
#pragma once

#include <string>
#include <vector>

namespace b2bua::status {

// `host`: the Host header ("name", "name:port", "1.2.3.4:8088", "[::1]:8088") or null.
bool host_allowed(const char* host, const std::vector<std::string>& allowed_names);

}  // namespace b2bua::status
