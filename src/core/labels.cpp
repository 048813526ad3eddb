#include "core/labels.h"

namespace vitrine {

std::vector<int> CountLabelsWhere(const cv::Mat& labels, int n, const cv::Mat& where) {
  CV_Assert(labels.type() == CV_32SC1 && where.type() == CV_8UC1 && where.size() == labels.size());
  std::vector<int> counts(n, 0);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const uchar* w = where.ptr<uchar>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (w[x]) ++counts[l[x]];
    }
  }
  return counts;
}

cv::Mat LabelsKept(const cv::Mat& labels, const std::vector<uchar>& keep) {
  CV_Assert(labels.type() == CV_32SC1);
  cv::Mat out(labels.size(), CV_8UC1);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    uchar* o = out.ptr<uchar>(y);
    for (int x = 0; x < labels.cols; ++x) o[x] = keep[l[x]] ? 255 : 0;
  }
  return out;
}

}  // namespace vitrine
