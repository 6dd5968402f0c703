// Placeholder while the worker is written; replaced in the next commit.
#include "jobq/worker.hpp"
