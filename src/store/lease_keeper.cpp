#include "store/lease_keeper.h"

namespace vitrine::store {

LeaseKeeper::LeaseKeeper(JobStore& store, const Job& job, std::string worker_id,
                         std::chrono::milliseconds lease)
    : store_(store),
      job_id_(job.id),
      attempt_(job.attempt),
      worker_id_(std::move(worker_id)),
      lease_(lease),
      thread_([this] { Loop(); }) {}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool LeaseKeeper::lost() const {
  std::lock_guard lock(mu_);
  return lost_;
}

Status LeaseKeeper::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

bool LeaseKeeper::BeatOnce() {
  // Outside the lock: a slow database must not block lost() readers.
  Status st = store_.Heartbeat(job_id_, attempt_, worker_id_, lease_);
  std::lock_guard lock(mu_);
  status_ = st;
  if (st.code() == Code::kCancelled || st.code() == Code::kNotFound) lost_ = true;
  return !lost_;
}

void LeaseKeeper::Loop() {
  // Three beats per lease: one lost beat (a busy database) still leaves the lease alive.
  const auto interval = std::max(lease_ / 3, std::chrono::milliseconds(1));
  std::unique_lock lock(mu_);
  while (!stopping_ && !lost_) {
    if (wake_.wait_for(lock, interval, [this] { return stopping_; })) break;
    lock.unlock();
    BeatOnce();
    lock.lock();
  }
}

}  // namespace vitrine::store
