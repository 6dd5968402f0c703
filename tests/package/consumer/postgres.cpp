// The PostgreSQL half of the consumer, built when the installed jobq has jobq::postgres: it must
// compile against the installed headers and link jobq::postgres and libpqxx through the
// exported targets alone. No server is needed: PostgresStore connects lazily.

#include <string>

#include <pqxx/pqxx>

#include <jobq/job_spec.hpp>
#include <jobq/postgres/postgres_store.hpp>

// Never called. Being compiled and linked, it needs enqueue_in from jobq::postgres and
// libpqxx's own symbols, which only the exported target's dependencies bring.
jobq::InsertResult consumer_enqueue_in(jobq::PostgresStore& store, const std::string& url) {
    pqxx::connection conn{url};
    pqxx::work tx{conn};
    auto inserted = store.enqueue_in(tx, jobq::JobSpec{"email.send", {{"to", "a@example.com"}}});
    tx.commit();
    return inserted;
}

// Constructs a store (which opens no connection: the port is one nothing listens on) and
// returns its schema.
std::string consumer_postgres_schema() {
    jobq::PostgresStore store{"postgresql://jobq@127.0.0.1:1/postgres",
                              {.schema = "jobq_consumer", .pool_size = 1}};
    return store.schema();
}
