// Placeholder while the scheduler is written; replaced in the next commit.
#include "jobq/scheduler.hpp"
