//! Integration tests of crossgym-env-server: routes and shapes per env (in-process router),
//! sessions and eviction, a bounded load test and a request-body fuzz test over loopback, and an
//! ignored soak test.

mod common;
mod fuzz;
mod load;
mod routes;
