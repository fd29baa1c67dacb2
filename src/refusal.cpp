/*
 * refusal.cpp -- names and strikes of the refusal reasons; see refusal.h.
 */
#include "refusal.h"

const char *refusal_name(int reason)
{
	switch (reason) {
	case REJECT_BAD_PATH:      return "bad_path";
	case REJECT_ORIGIN:        return "origin";
	case REJECT_CAPACITY:      return "capacity";
	case REJECT_SHUTTING_DOWN: return "shutting_down";
	case REJECT_ADDR_CALLS:    return "addr_calls";
	case REJECT_ADDR_RATE:     return "addr_rate";
	case REJECT_ADDR_TABLE_FULL: return "addr_table_full";
	case REJECT_ADDR_CONNS:    return "addr_conns";
	case REJECT_CONNS_FULL:    return "conns_full";
	case REJECT_REPLAY:        return "replay";
	case REJECT_MISSING_JTI:   return "missing_jti";
	case REJECT_REPLAY_FULL:   return "replay_table_full";
	case REJECT_REPLAY_UNAVAILABLE: return "replay_store_down";
	case REJECT_ADMIN_BAD_REQUEST: return "admin_bad_request";
	case REJECT_STATS_BAD_QUERY: return "stats_bad_query";
	case REJECT_MSG_RATE:      return "msg_rate";
	case REJECT_IDLE:          return "idle";
	case REJECT_WEBHOOK_AUTH:  return "webhook_auth";
	case REJECT_PAYLOAD_HASH:  return "payload_hash";
	case REJECT_STATS_ACCESS:  return "stats_access";
	case REJECT_BODY_TIMEOUT:  return "body_timeout";
	case REJECT_SUBPROTOCOL:   return "subprotocol";
	case REJECT_MISSING_PAYLOAD_HASH: return "missing_payload_hash";
	case REJECT_TRANSFER_ENCODING: return "transfer_encoding";
	case REJECT_BAD_CLOSE:     return "bad_close";
	case REJECT_BLOCKED:       return "blocked";
	case REJECT_ADMIN_ACCESS:  return "admin_access";
	default:                   return auth_result_str((enum auth_result)reason);
	}
}

int refusal_is_strike(int reason)
{
	switch (reason) {
	/* a client without the secret, or replaying what it captured */
	case AUTH_MISSING:
	case AUTH_NOT_BEARER:
	case AUTH_MALFORMED:
	case AUTH_BAD_ALG:
	case AUTH_BAD_SIGNATURE:
	case AUTH_NO_IAT:
	case AUTH_WRONG_APP:
	case AUTH_BAD_ISSUER:
	case REJECT_REPLAY:
	case REJECT_MISSING_JTI:
	case REJECT_WEBHOOK_AUTH:
	case REJECT_PAYLOAD_HASH:
	case REJECT_MISSING_PAYLOAD_HASH:
	/* probing and floods */
	case REJECT_BAD_PATH:
	case REJECT_ORIGIN:
	case REJECT_ADDR_RATE:
	case REJECT_ADDR_CONNS:
	case REJECT_MSG_RATE:
	case REJECT_STATS_ACCESS:
	case REJECT_ADMIN_ACCESS:
	case REJECT_BODY_TIMEOUT:
	case REJECT_SUBPROTOCOL:
	case REJECT_TRANSFER_ENCODING:
	case REJECT_BAD_CLOSE:
		return 1;
	/*
	 * Not strikes: expired or early tokens (a clock problem between
	 * Vonage and us would otherwise block Vonage), "server busy" answers
	 * (capacity, shutting down, full tables, the replay store down, the
	 * open-call cap), idle calls
	 * (a network stall), refusals of an address already blocked, and a
	 * refused admin body or stats query (only the operator or a stats
	 * reader gets that far: a typo, not an attack).
	 */
	default:
		return 0;
	}
}
