/* layer_specs.h — builders of layer specs for the C tests of stacks
 * (test_layers.c, stack_parity.c): dense(8), conv(16, 4, 2, 1), ... with
 * biases and PyTorch's leaky slope. */
#ifndef WF_LAYER_SPECS_H
#define WF_LAYER_SPECS_H

#include "wf.h"

static inline wf_layer_spec dense(int units) {
  return (wf_layer_spec){.kind = WF_LAYER_DENSE, .units = units, .bias = 1};
}
static inline wf_layer_spec conv(int ch, int k, int stride, int pad) {
  return (wf_layer_spec){.kind = WF_LAYER_CONV2D, .units = ch, .kernel = k,
                         .stride = stride, .padding = pad, .bias = 1};
}
static inline wf_layer_spec conv_t(int ch, int k, int stride, int pad, int out_pad) {
  return (wf_layer_spec){.kind = WF_LAYER_CONV_T2D, .units = ch, .kernel = k,
                         .stride = stride, .padding = pad,
                         .output_padding = out_pad, .bias = 1};
}
static inline wf_layer_spec act(wf_activation a) {
  return (wf_layer_spec){.kind = WF_LAYER_ACTIVATION, .act = a, .slope = 0.2};
}
static inline wf_layer_spec layer_of(wf_layer_kind kind) {
  return (wf_layer_spec){.kind = kind};
}
static inline wf_layer_spec reshape(int c, int h, int w) {
  return (wf_layer_spec){.kind = WF_LAYER_RESHAPE, .shape = {c, h, w}};
}

#endif
