// Per-label sums and masks over a label image (cv::connectedComponents' CV_32SC1 output).
//
// Pure functions; thread-safe. `labels` holds values in [0, n); label 0 is the background and is
// treated like any other (callers skip it).
#pragma once

#include <opencv2/core.hpp>
#include <vector>

namespace vitrine {

// How many pixels of each label lie where `where` (CV_8UC1, labels' size) is nonzero: n counts.
std::vector<int> CountLabelsWhere(const cv::Mat& labels, int n, const cv::Mat& where);

// CV_8UC1 of labels' size: 255 where keep[label] is nonzero, else 0. `keep` has one entry per
// label.
cv::Mat LabelsKept(const cv::Mat& labels, const std::vector<uchar>& keep);

}  // namespace vitrine
