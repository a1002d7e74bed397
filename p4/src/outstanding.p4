// Outstanding requests per (group, server), kept by the switch itself (request path steps 3, 6, 7;
// reply path step 1): +1 when it sends a copy, −1 on the reply, the drop notice or the bounce,
// saturating at 0. Two copies, each accessed once per pass: a po2 request reads candidate a in
// one and candidate b in the other; every writer updates both. The control plane writes po2
// pick rows with offset = 65536 − weight; the score is outstanding + offset.
#ifndef _PALLAS_OUTSTANDING_P4_
#define _PALLAS_OUTSTANDING_P4_

#define OUT_READ 0
#define OUT_INC  1
#define OUT_DEC  2

// One register action per copy does all three (read, +1, saturating −1), chosen by md.out_op:
// the three uses are on different paths (po2 first pass; a copy sent; a reply, notice or bounce)
// and one access per copy keeps the register in one place in the pipeline.
control Outstanding(inout ig_md_t md) {
    Register<bit<32>, bit<13>>(PALLAS_MAX_GROUPS * PALLAS_MAX_SERVERS, 0) outstanding_a;
    RegisterAction<bit<32>, bit<13>, bit<32>>(outstanding_a) access_a = {
        void apply(inout bit<32> v, out bit<32> rv) {
            rv = v + md.off_a;  // the po2 score (read); the other uses ignore it
            if (md.out_op == OUT_INC) { v = v + 1; }
            else if (md.out_op == OUT_DEC) { v = v |-| 1; }
        }
    };
    Register<bit<32>, bit<13>>(PALLAS_MAX_GROUPS * PALLAS_MAX_SERVERS, 0) outstanding_b;
    RegisterAction<bit<32>, bit<13>, bit<32>>(outstanding_b) access_b = {
        void apply(inout bit<32> v, out bit<32> rv) {
            rv = v + md.off_b;
            if (md.out_op == OUT_INC) { v = v + 1; }
            else if (md.out_op == OUT_DEC) { v = v |-| 1; }
        }
    };
    apply {
        md.s_a = access_a.execute(md.slot_a);
        md.s_b = access_b.execute(md.slot_b);
    }
}

// The po2 choice from the two scores read (outstanding + 65536 − weight: the offset keeps them
// positive for weights up to 65535): the lower wins, a tie goes to a. Only equality tests are
// possible in apply{}: min() in an action, then which one it equals.
control Po2Choose(inout headers_t hdr, inout ig_md_t md) {
    action lower() { md.s_min = min(md.s_a, md.s_b); }
    apply {
        lower();
        // The winner rides in the resubmit data: the second pass sends it.
        if (md.s_min == md.s_a) { hdr.resub.server = md.server_a; } else { hdr.resub.server = md.server_b; }
    }
}

#endif
