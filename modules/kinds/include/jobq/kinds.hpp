#pragma once
// The built-in job kinds on libcurl (component `kinds`, target jobq::kinds): jobq.http,
// jobq.email, Standard Webhooks signatures and failure notifications.

#include "jobq/kinds/email_kind.hpp"
#include "jobq/kinds/email_options.hpp"
#include "jobq/kinds/failure_notifier.hpp"
#include "jobq/kinds/http_kind.hpp"
#include "jobq/kinds/http_options.hpp"
#include "jobq/kinds/http_request.hpp"
#include "jobq/kinds/webhook_signature.hpp"
