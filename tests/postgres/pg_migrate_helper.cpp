// pg_migrate_helper URL SCHEMA: one of the processes of the concurrent-migration test.
//
// It opens a PostgresStore on SCHEMA and makes sure it holds a live connection
// (schema_version()), prints "ready", then blocks reading fd 3 until the test closes the other
// end of that pipe — which releases every helper at the same moment — and calls migrate(),
// printing "version N". Exit status 0 on success, 1 with the error on stderr otherwise.

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>

#include "jobq/error.hpp"
#include "jobq/postgres/postgres_store.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: pg_migrate_helper URL SCHEMA (barrier pipe on fd 3)\n");
        return 2;
    }
    try {
        jobq::PostgresOptions options;
        options.schema = argv[2];
        jobq::PostgresStore store{argv[1], options};
        const int before = store.schema_version();  // opens a connection before the race
        std::printf("ready %d\n", before);
        std::fflush(stdout);

        char byte = 0;
        while (::read(3, &byte, 1) > 0) {
        }  // EOF: the test closed the write end; everyone goes now

        const int version = store.migrate();
        std::printf("version %d\n", version);
        std::fflush(stdout);
        return 0;
    } catch (const jobq::Error& e) {
        std::fprintf(stderr, "pg_migrate_helper: %s (%s)\n", e.what(),
                     std::string(jobq::to_string(e.code())).c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pg_migrate_helper: %s\n", e.what());
        return 1;
    }
}
