#include "jobq/cron_expression.hpp"
