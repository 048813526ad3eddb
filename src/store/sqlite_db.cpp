// SQLite adapter: one connection, a mutex, cached prepared statements.
#include <sqlite3.h>

#include <mutex>
#include <unordered_map>

#include "store/sql.h"

namespace vitrine::store {
namespace {

class SqliteTx;

class SqliteDb : public SqlDb {
 public:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteDb() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  std::string_view backend() const override { return "sqlite"; }
  std::string_view IdColumnType() const override { return "INTEGER PRIMARY KEY AUTOINCREMENT"; }
  std::string_view ClaimLockClause() const override { return ""; }
  std::string_view RowLockClause() const override { return ""; }
  std::string_view MigrationLockStatement() const override { return ""; }

  Status Transact(TxKind kind, const std::function<Status(SqlTx&)>& body) override;

  // The status for SQLite result code `rc` while doing `what`.
  Status Error(int rc, std::string_view what) const {
    std::string msg =
        "SQLite " + std::string(what) + " on " + path_ + " failed: " + sqlite3_errmsg(db_);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      return Unavailable(msg +
                         "; another process held the database lock beyond the busy "
                         "timeout, retry later");
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return InvalidArgument("the record conflicts with a stored one (" + msg + ")");
    }
    if (rc == SQLITE_FULL) return ResourceExhausted(msg + "; free disk space");
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
      return Internal(msg + "; the file is damaged, restore it from a backup");
    }
    if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM) {
      return Unavailable(msg + "; check that the file and its folder are writable");
    }
    return Internal(msg);
  }

  Result<sqlite3_stmt*> Prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "prepare of \"" + sql + "\"");
    statements_.emplace(sql, stmt);
    return stmt;
  }

  Status ExecPlain(const char* sql) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status::Ok() : Error(rc, sql);
  }

  sqlite3* db() { return db_; }

 private:
  std::mutex mu_;
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

class SqliteTx : public SqlTx {
 public:
  explicit SqliteTx(SqliteDb& db) : db_(db) {}

  Result<std::vector<SqlRow>> Query(const std::string& sql, const SqlParams& params) override {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }
  Result<int64_t> Exec(const std::string& sql, const SqlParams& params) override {
    RETURN_IF_ERROR(Run(sql, params, nullptr));
    return static_cast<int64_t>(sqlite3_changes(db_.db()));
  }

 private:
  Status Run(const std::string& sql, const SqlParams& params, std::vector<SqlRow>* rows) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, db_.Prepare(sql));
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<int64_t>(v)) {
        rc = sqlite3_bind_int64(stmt, idx, std::get<int64_t>(v));
      } else if (std::holds_alternative<double>(v)) {
        rc = sqlite3_bind_double(stmt, idx, std::get<double>(v));
      } else if (std::holds_alternative<std::string>(v)) {
        const std::string& s = std::get<std::string>(v);
        rc = sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt, idx);
      }
      if (rc != SQLITE_OK) return db_.Error(rc, "bind");
    }
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Status st = db_.Error(rc, "statement \"" + sql + "\"");
        sqlite3_reset(stmt);
        return st;
      }
      if (!rows) continue;
      int n = sqlite3_column_count(stmt);
      std::vector<std::optional<std::string>> cells(n);
      for (int c = 0; c < n; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) continue;
        const unsigned char* text = sqlite3_column_text(stmt, c);
        cells[c] = std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, c));
      }
      rows->emplace_back(std::move(cells));
    }
    sqlite3_reset(stmt);
    return Status::Ok();
  }

  SqliteDb& db_;
};

Status SqliteDb::Transact(TxKind kind, const std::function<Status(SqlTx&)>& body) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(ExecPlain(kind == TxKind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
  SqliteTx tx(*this);
  Status st = body(tx);
  if (st.ok()) {
    st = ExecPlain("COMMIT");
    if (st.ok()) return st;
  }
  // A failed COMMIT may have rolled back already; ROLLBACK then fails harmlessly.
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return st;
}

}  // namespace

Result<std::unique_ptr<SqlDb>> OpenSqliteDb(const std::string& path,
                                            std::chrono::milliseconds busy_timeout) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return Unavailable("cannot open the job store " + path + ": " + msg +
                       "; check that its folder exists and is writable");
  }
  auto db = std::make_unique<SqliteDb>(raw, path);
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  // WAL lets readers run beside the one writer and survives kill -9 of any process;
  // synchronous=FULL makes a committed transaction durable across power loss.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    RETURN_IF_ERROR(db->ExecPlain(pragma));
  }
  return std::unique_ptr<SqlDb>(std::move(db));
}

}  // namespace vitrine::store
