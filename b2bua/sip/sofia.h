// The sofia-sip headers we use, in one place, with the magic types bound to ours so that the
// callbacks are typed (sofia's documented way: define the *_MAGIC_T macros before including).
#pragma once

namespace b2bua::sip {
class SipAgent;
class HandleOwner;
}  // namespace b2bua::sip

#define SU_ROOT_MAGIC_T void
#define NUA_MAGIC_T b2bua::sip::SipAgent
#define NUA_HMAGIC_T b2bua::sip::HandleOwner

#include <sofia-sip/auth_module.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/soa_tag.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>
