/*
 * A log's settings: the defaults taken from the broker's log.* keys (topic
 * overrides are applied over them in src/meta/topic_config.c), the name of
 * a timestamp type, and the batch rules an append checks under them.
 */
#include <stdlib.h>
#include <string.h>

#include "log_int.h"

sk_timestamp_type sk_timestamp_type_from_name(const char *name)
{
    return name && strcmp(name, "LogAppendTime") == 0 ? SK_TIMESTAMP_LOG_APPEND_TIME : SK_TIMESTAMP_CREATE_TIME;
}

void sk_log_config_from_broker(sk_log_config *lc, const sk_config *cfg)
{
    memset(lc, 0, sizeof *lc);
    lc->segment_bytes = cfg->log_segment_bytes > INT32_MAX ? INT32_MAX : cfg->log_segment_bytes;
    lc->segment_ms = cfg->log_roll_ms;
    lc->retention_ms = cfg->log_retention_ms;
    lc->retention_bytes = cfg->log_retention_bytes;
    lc->flush_messages = cfg->log_flush_interval_messages;
    lc->flush_ms = cfg->log_flush_interval_ms;
    lc->index_interval_bytes = cfg->log_index_interval_bytes;
    lc->max_index_size_bytes = cfg->log_index_size_max_bytes;
    lc->file_delete_delay_ms = cfg->file_delete_delay_ms;
    lc->max_message_bytes = cfg->message_max_bytes;
    lc->timestamp_type = sk_timestamp_type_from_name(cfg->log_message_timestamp_type);
    lc->timestamp_before_max_ms = cfg->log_message_timestamp_before_max_ms;
    lc->timestamp_after_max_ms = cfg->log_message_timestamp_after_max_ms;
    lc->compact = false;
    lc->delete_retention_ms = cfg->log_cleaner_delete_retention_ms;
    lc->min_compaction_lag_ms = cfg->log_cleaner_min_compaction_lag_ms;
    lc->max_compaction_lag_ms = cfg->log_cleaner_max_compaction_lag_ms;
    lc->min_cleanable_ratio =
        cfg->log_cleaner_min_cleanable_ratio ? strtod(cfg->log_cleaner_min_cleanable_ratio, NULL) : 0.5;
}

sk_batch_rules sk_log_config_rules(const sk_log_config *lc, sk_append_origin origin)
{
    return (sk_batch_rules){
        .max_message_bytes = lc->max_message_bytes,
        .timestamp_type = lc->timestamp_type,
        .timestamp_before_max_ms = lc->timestamp_before_max_ms,
        .timestamp_after_max_ms = lc->timestamp_after_max_ms,
        .compact = lc->compact,
        .origin = origin,
    };
}
