// Internal to src/store: the small SQL surface the job store needs from a database, so the
// queue's logic is written once (sql_store.cpp) and each backend only adapts its client library
// (sqlite_db.cpp, postgres_db.cpp). Exceptions of the client libraries are caught in the
// adapters and returned as Status.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/status.h"

namespace vitrine::store {

// A statement parameter: NULL, integer, real or text.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;
using SqlParams = std::vector<SqlValue>;

// NULL when `v` is empty.
template <typename T>
SqlValue OrNull(const std::optional<T>& v) {
  if (!v) return std::monostate{};
  if constexpr (std::is_integral_v<T>) {
    return static_cast<int64_t>(*v);
  } else {
    return *v;
  }
}

// One result row; every cell as text (NULL as nullopt), which both backends can give.
class SqlRow {
 public:
  explicit SqlRow(std::vector<std::optional<std::string>> cells) : cells_(std::move(cells)) {}
  bool IsNull(int i) const { return !cells_.at(i).has_value(); }
  // Parse failures give 0: the columns are ours and typed, so they cannot happen short of a
  // corrupt file, which PRAGMA integrity_check reports.
  int64_t Int(int i) const;
  double Double(int i) const;
  std::optional<int64_t> OptInt(int i) const;
  std::string Text(int i) const { return cells_.at(i).value_or(""); }

 private:
  std::vector<std::optional<std::string>> cells_;
};

// A transaction in progress. Statements use `?` placeholders in order.
class SqlTx {
 public:
  virtual ~SqlTx() = default;
  virtual Result<std::vector<SqlRow>> Query(const std::string& sql, const SqlParams& params) = 0;
  // Returns the number of rows changed.
  virtual Result<int64_t> Exec(const std::string& sql, const SqlParams& params) = 0;
};

enum class TxKind {
  kRead,   // reads only; on PostgreSQL each statement sees its own snapshot (autocommit)
  kWrite,  // SQLite: BEGIN IMMEDIATE, so a read-then-write transaction cannot deadlock
};

// A database connection. Thread-safe: Transact calls are serialised by a mutex.
class SqlDb {
 public:
  virtual ~SqlDb() = default;
  virtual std::string_view backend() const = 0;
  // Runs `body` in a transaction: commits if it returns OK, rolls back otherwise (its error is
  // returned). Transient conflicts (deadlock, serialisation failure) and a connection lost
  // before COMMIT are retried a few times, so `body` must be safe to run again.
  virtual Status Transact(TxKind kind, const std::function<Status(SqlTx&)>& body) = 0;
  // Column type of an auto-increment 64-bit primary key.
  virtual std::string_view IdColumnType() const = 0;
  // Appended to the claim SELECT (PostgreSQL: " FOR UPDATE SKIP LOCKED").
  virtual std::string_view ClaimLockClause() const = 0;
  // Appended to a SELECT whose rows the transaction must hold until it ends (PostgreSQL:
  // " FOR UPDATE"; SQLite: nothing, a write transaction already excludes other writers).
  virtual std::string_view RowLockClause() const = 0;
  // Run first in the migration transaction so concurrent openers migrate one at a time.
  virtual std::string_view MigrationLockStatement() const = 0;
};

// `path` is a file path; its folder must exist.
Result<std::unique_ptr<SqlDb>> OpenSqliteDb(const std::string& path,
                                            std::chrono::milliseconds busy_timeout);
// `url` is a libpq connection URL.
Result<std::unique_ptr<SqlDb>> OpenPostgresDb(const std::string& url);

class JobStore;
struct StoreOptions;
// The job store over `db` (creates or migrates the schema).
Result<std::unique_ptr<JobStore>> OpenSqlStore(std::unique_ptr<SqlDb> db, StoreOptions options);

}  // namespace vitrine::store
