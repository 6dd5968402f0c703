// A second process on a worker test's SQLite file, so a test can act on a job from outside
// the worker's process (whose notifications cannot reach it):
//   worker_test_peer cancel DB_PATH JOB_ID
#include <cstdio>
#include <string>
#include <string_view>

#include "jobq/queue.hpp"
#include "jobq/sqlite/sqlite_store.hpp"

int main(int argc, char** argv) {
    if (argc != 4 || std::string_view(argv[1]) != "cancel") {
        std::fprintf(stderr, "usage: worker_test_peer cancel DB_PATH JOB_ID\n");
        return 2;
    }
    try {
        jobq::SqliteStore store(argv[2]);
        jobq::Queue queue(store);
        queue.cancel(std::stoll(argv[3]));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "worker_test_peer: %s\n", e.what());
        return 1;
    }
}
