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

// A state-changing request (POST) from a page: true when it carries no Origin header (not a
// browser's cross-origin request: curl, scripts) or one whose host:port is the Host header's
// (the status page itself). "null", another scheme than http/https, or any other host or port
// is false; so is an Origin without a Host to compare it with.
bool same_origin(const char* origin, const char* host);

}  // namespace b2bua::status
