#pragma once
// jobq: everything an application uses from the core, in one include; this is the stable
// application API. Add a backend with <jobq/sqlite.hpp> or <jobq/postgres.hpp> (each includes
// this one). What only a Store's author needs (the Store interface, claim planning, token
// bucket arithmetic, the requests a store applies) lives in <jobq/backend/...>, gathered by
// <jobq/backend.hpp>; an application does not need it.

// Jobs: what to enqueue, what is stored, and errors at the API boundary.
#include "jobq/clock.hpp"
#include "jobq/error.hpp"
#include "jobq/input_limits.hpp"
#include "jobq/insert_result.hpp"
#include "jobq/job.hpp"
#include "jobq/job_filter.hpp"
#include "jobq/job_spec.hpp"
#include "jobq/job_state.hpp"
#include "jobq/json_input.hpp"
#include "jobq/retry_policy.hpp"
#include "jobq/time_format.hpp"

// Clients and services: enqueue and inspect, handlers, the worker and the maintenance services.
#include "jobq/job_context.hpp"
#include "jobq/queue.hpp"
#include "jobq/queue_stats.hpp"
#include "jobq/registry.hpp"
#include "jobq/scheduler.hpp"
#include "jobq/signals.hpp"
#include "jobq/worker.hpp"

// Cron: expressions, schedules declared in code or managed at run time, misfire policies.
#include "jobq/cron_expression.hpp"
#include "jobq/cron_schedule.hpp"
#include "jobq/crontab.hpp"
#include "jobq/misfire_policy.hpp"
#include "jobq/schedule_record.hpp"
#include "jobq/time_zone.hpp"

// Workflows and batches: jobs that wait for other jobs, results passed on, callbacks.
#include "jobq/batch_spec.hpp"
#include "jobq/workflow_record.hpp"
#include "jobq/workflow_spec.hpp"

// Flow control: caps, rate limits, pauses, tenant quotas and weights; why a job waits.
#include "jobq/flow_control.hpp"
#include "jobq/flow_limits.hpp"
#include "jobq/limit_record.hpp"
#include "jobq/limit_scope.hpp"
#include "jobq/quota_exceeded.hpp"
#include "jobq/rate_limit.hpp"
#include "jobq/token_bucket.hpp"
#include "jobq/wait_reason.hpp"
#include "jobq/worker_record.hpp"
