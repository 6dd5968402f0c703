#pragma once
// For backend authors: everything a Store implementation uses, in one include. An application
// does not need this header (<jobq/jobq.hpp> is its API); these types may change between minor
// versions as the storage contract grows.

#include "jobq/jobq.hpp"

#include "jobq/backend/batch_callbacks.hpp"
#include "jobq/backend/claim_plan.hpp"
#include "jobq/backend/dependency_end.hpp"
#include "jobq/backend/workflow_plan.hpp"
#include "jobq/backend/job_columns.hpp"
#include "jobq/backend/limit_release.hpp"
#include "jobq/backend/lost_lease.hpp"
#include "jobq/backend/new_job.hpp"
#include "jobq/backend/notifier.hpp"
#include "jobq/backend/schedule_requests.hpp"
#include "jobq/backend/schema_check.hpp"
#include "jobq/backend/store.hpp"
#include "jobq/backend/tenant_quota.hpp"
#include "jobq/backend/tenant_rotation.hpp"
#include "jobq/backend/token_bucket_refill.hpp"
#include "jobq/backend/wait_facts.hpp"
