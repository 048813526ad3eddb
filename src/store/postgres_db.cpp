// PostgreSQL adapter over libpqxx 6.4: one connection, a mutex, server-side prepared statements
// (one per distinct SQL text), `?` placeholders rewritten as $1, $2, ...
#include <mutex>
#include <pqxx/pqxx>
#include <unordered_map>

#include "store/sql.h"

namespace vitrine::store {
namespace {

std::string Numbered(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

// `url` without its password, for messages.
std::string Redacted(const std::string& url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

class PostgresDb : public SqlDb {
 public:
  explicit PostgresDb(std::unique_ptr<pqxx::connection> conn) : conn_(std::move(conn)) {}

  std::string_view backend() const override { return "postgresql"; }
  std::string_view IdColumnType() const override { return "BIGSERIAL PRIMARY KEY"; }
  std::string_view ClaimLockClause() const override { return " FOR UPDATE SKIP LOCKED"; }
  std::string_view RowLockClause() const override { return " FOR UPDATE"; }
  std::string_view MigrationLockStatement() const override {
    return "SELECT pg_advisory_xact_lock(7405203)";
  }

  Status Transact(TxKind kind, const std::function<Status(SqlTx&)>& body) override;

  // The name of the prepared statement for `sql`, preparing it on first use.
  const std::string& Prepared(const std::string& sql) {
    auto it = prepared_.find(sql);
    if (it != prepared_.end()) return it->second;
    std::string name = "s";
    name += std::to_string(prepared_.size());
    conn_->prepare(name, Numbered(sql));
    return prepared_.emplace(sql, std::move(name)).first->second;
  }

 private:
  std::mutex mu_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unordered_map<std::string, std::string> prepared_;
};

class PostgresTx : public SqlTx {
 public:
  PostgresTx(PostgresDb& db, pqxx::transaction_base& work) : db_(db), work_(work) {}

  Result<std::vector<SqlRow>> Query(const std::string& sql, const SqlParams& params) override {
    pqxx::result r = Run(sql, params);
    std::vector<SqlRow> rows;
    rows.reserve(r.size());
    for (const auto& row : r) {
      std::vector<std::optional<std::string>> cells(row.size());
      for (pqxx::row::size_type c = 0; c < row.size(); ++c) {
        if (!row[c].is_null()) cells[c] = row[c].c_str();
      }
      rows.emplace_back(std::move(cells));
    }
    return rows;
  }
  Result<int64_t> Exec(const std::string& sql, const SqlParams& params) override {
    return static_cast<int64_t>(Run(sql, params).affected_rows());
  }

 private:
  // Throws pqxx exceptions; Transact converts them.
  pqxx::result Run(const std::string& sql, const SqlParams& params) {
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (std::holds_alternative<int64_t>(v)) {
        storage[i] = std::to_string(std::get<int64_t>(v));
      } else if (std::holds_alternative<double>(v)) {
        storage[i] = pqxx::to_string(std::get<double>(v));
      } else if (std::holds_alternative<std::string>(v)) {
        storage[i] = std::get<std::string>(v);
      } else {
        continue;  // NULL
      }
      values[i] = storage[i].c_str();
    }
    return work_.exec_prepared(db_.Prepared(sql), pqxx::prepare::make_dynamic_params(values));
  }

  PostgresDb& db_;
  pqxx::transaction_base& work_;
};

Status PostgresDb::Transact(TxKind kind, const std::function<Status(SqlTx&)>& body) {
  std::lock_guard lock(mu_);
  constexpr int kTries = 5;
  for (int attempt = 1;; ++attempt) {
    try {
      if (kind == TxKind::kRead) {
        // Autocommit: one round trip per statement instead of three (BEGIN, it, COMMIT).
        pqxx::nontransaction read(*conn_);
        PostgresTx tx(*this, read);
        return body(tx);
      }
      pqxx::work work(*conn_);
      PostgresTx tx(*this, work);
      Status st = body(tx);
      if (!st.ok()) return st;  // the work's destructor rolls back
      work.commit();
      return Status::Ok();
    } catch (const pqxx::deadlock_detected& e) {
      if (attempt == kTries) return Unavailable(std::string("PostgreSQL deadlock: ") + e.what());
    } catch (const pqxx::serialization_failure& e) {
      if (attempt == kTries) {
        return Unavailable(std::string("PostgreSQL serialization failure: ") + e.what());
      }
    } catch (const pqxx::unique_violation& e) {
      return InvalidArgument(std::string("the record conflicts with a stored one: ") + e.what());
    } catch (const pqxx::broken_connection& e) {
      // Lost before COMMIT was sent, so the server rolled the transaction back: safe to run it
      // again; libpqxx reconnects when the next transaction starts.
      if (attempt == kTries) {
        return Unavailable(std::string("lost the PostgreSQL connection: ") + e.what() +
                           "; check that the server is up, the next call reconnects");
      }
    } catch (const pqxx::in_doubt_error& e) {
      return Unavailable(std::string("PostgreSQL commit in doubt (connection lost): ") + e.what() +
                         "; read the job back before retrying");
    } catch (const std::exception& e) {
      return Internal(std::string("PostgreSQL statement failed: ") + e.what());
    }
  }
}

}  // namespace

Result<std::unique_ptr<SqlDb>> OpenPostgresDb(const std::string& url) {
  try {
    auto conn = std::make_unique<pqxx::connection>(url);
    return std::unique_ptr<SqlDb>(std::make_unique<PostgresDb>(std::move(conn)));
  } catch (const std::exception& e) {
    return Unavailable("cannot connect to PostgreSQL at " + Redacted(url) + ": " + e.what() +
                       "; check the URL, that the server runs and accepts this user");
  }
}

}  // namespace vitrine::store
