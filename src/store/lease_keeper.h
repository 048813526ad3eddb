// Keeps the lease of one claimed job alive while a worker processes it, and tells the worker
// when it must stop.
//
//   Result<std::optional<Job>> job = store.Claim(worker_id, lease);
//   LeaseKeeper keeper(store, **job, worker_id, lease);
//   ... between steps: if (keeper.lost()) return;  // cancelled or re-claimed: discard the work
//   store.Complete(job->id, job->attempt, result);  // fenced anyway
//
// A background thread calls JobStore::Heartbeat every lease / 3. A heartbeat refused with
// Cancelled (the job was cancelled, or its lease expired and another attempt claimed it) ends the
// thread and sets lost(). Other errors (the database briefly unavailable) are retried at the next
// beat; if they last longer than the lease, the job may be claimed again and the fenced
// Complete will then refuse this attempt.
//
// Thread-safe: lost() and status() may be called from any thread. The store is borrowed and must
// outlive the keeper; the destructor stops and joins the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.h"

namespace vitrine::store {

class LeaseKeeper {
 public:
  LeaseKeeper(JobStore& store, const Job& job, std::string worker_id,
              std::chrono::milliseconds lease);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // True once the store refused a heartbeat with Cancelled: stop working on the job.
  bool lost() const;
  // The last heartbeat's result (OK before the first one).
  Status status() const;
  // Sends one heartbeat now (the thread also calls this); returns !lost().
  bool BeatOnce();

 private:
  void Loop();

  JobStore& store_;
  const int64_t job_id_;
  const int attempt_;
  const std::string worker_id_;
  const std::chrono::milliseconds lease_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool lost_ = false;
  Status status_;
  std::thread thread_;
};

}  // namespace vitrine::store
