"""The one declaration of every function ddrr intercepts.

Each Function here generates (gen_api.py): its typed message in api.proto, its encoder for the
interposer (no libprotobuf), its row in the function table used by the dumper, and later its
wrapper and replay entry. Ids are the protobuf field numbers of ApiCall.fn and of the argument
fields: NEVER renumber or reuse one (docs/FORMAT.md, "Compatibility"). Add new functions with
new ids; retire old ones by leaving their id unused.
"""

from dataclasses import dataclass, field
from typing import List, Optional


# ---- argument types -------------------------------------------------------------------------
@dataclass(frozen=True)
class Type:
    proto: str          # protobuf field type
    cpp: str            # C++ parameter type of the generated encoder
    kind: str           # ArgKind in options.proto: how tools show it
    handle: str = ""    # handle family (comm, stream, event, ...) for numbering in dumps
    wire: str = "varint"  # varint | zigzag | fixed32 | fixed64 | bytes | float | double


INT = Type("int32", "int64_t", "ARG_INT")
UINT = Type("uint32", "uint64_t", "ARG_INT")
INT64 = Type("int64", "int64_t", "ARG_INT")
UINT64 = Type("uint64", "uint64_t", "ARG_INT")
SIZE = Type("uint64", "uint64_t", "ARG_SIZE")
FLAGS = Type("uint32", "uint64_t", "ARG_FLAGS")
FLOAT = Type("float", "float", "ARG_FLOAT", wire="float")
DOUBLE = Type("double", "double", "ARG_FLOAT", wire="double")
PTR = Type("uint64", "uint64_t", "ARG_POINTER")       # device or host address
FUNC = Type("uint64", "uint64_t", "ARG_FUNCTION")     # host function / kernel handle
STRING = Type("string", "std::string_view", "ARG_STRING", wire="bytes")
BYTES = Type("bytes", "std::string_view", "ARG_BYTES", wire="bytes")
UNIQUE_ID = Type("bytes", "std::string_view", "ARG_UNIQUE_ID", wire="bytes")  # ncclUniqueId


def Handle(family: str) -> Type:
    return Type("uint64", "uint64_t", "ARG_HANDLE", handle=family)


def Enum(name: str) -> Type:
    return Type(name, "int64_t", "ARG_ENUM")


COMM = Handle("comm")
STREAM = Handle("stream")
EVENT = Handle("event")
GRAPH = Handle("graph")
GRAPH_EXEC = Handle("graphExec")
CURAND_GEN = Handle("curandGenerator")
NCCL_REG = Handle("ncclRegistration")
NCCL_WINDOW = Handle("ncclWindow")
DATATYPE = Enum("NcclDataType")
REDOP = Enum("NcclRedOp")
MEMCPY_KIND = Enum("CudaMemcpyKind")
SCALAR_RESIDENCE = Enum("NcclScalarResidence")
RNG_TYPE = Enum("CurandRngType")
CAPTURE_MODE = Enum("CudaStreamCaptureMode")
DIM3 = Type("Dim3", "Dim3Value", "ARG_DIM3", wire="message")
NCCL_CONFIG = Type("NcclConfig", "const NcclConfigValue*", "ARG_CONFIG", wire="message")


@dataclass(frozen=True)
class Arg:
    name: str
    type: Type
    direction: str = "in"     # in: value passed; out: value written by the callee (recorded after)
    repeated: bool = False    # an array (count given by another argument)


def In(name, t, repeated=False):
    return Arg(name, t, "in", repeated)


def Out(name, t, repeated=False):
    return Arg(name, t, "out", repeated)


@dataclass(frozen=True)
class Function:
    id: int
    name: str               # C name
    library: str            # nccl | cudart | curand
    args: List[Arg]
    result: str = ""        # enum that names the return code ("" = not an error code)
    category: str = ""      # collective | p2p | group | comm_create | comm_destroy | memory | ...
    comm_arg: Optional[str] = None  # the argument holding the communicator the call acts on


# ---- NCCL 2.28.9: all 41 public host functions (field-notes.md 1.1) ---------------------------
_R = "NcclResult"
NCCL = [
    Function(1, "ncclGetVersion", "nccl", [Out("version", INT)], _R, "info"),
    Function(2, "ncclGetUniqueId", "nccl", [Out("unique_id", UNIQUE_ID)], _R, "info"),
    Function(3, "ncclGetErrorString", "nccl", [In("result", Enum("NcclResult"))], "", "info"),
    Function(4, "ncclGetLastError", "nccl", [In("comm", COMM)], "", "info", "comm"),
    Function(5, "ncclResetDebugInit", "nccl", [], "", "info"),
    Function(6, "ncclMemAlloc", "nccl", [Out("ptr", PTR), In("size", SIZE)], _R, "memory"),
    Function(7, "ncclMemFree", "nccl", [In("ptr", PTR)], _R, "memory"),
    Function(10, "ncclCommInitRank", "nccl",
             [Out("comm", COMM), In("nranks", INT), In("comm_id", UNIQUE_ID), In("rank", INT)],
             _R, "comm_create", "comm"),
    Function(11, "ncclCommInitRankConfig", "nccl",
             [Out("comm", COMM), In("nranks", INT), In("comm_id", UNIQUE_ID), In("rank", INT),
              In("config", NCCL_CONFIG)], _R, "comm_create", "comm"),
    Function(12, "ncclCommInitAll", "nccl",
             [Out("comms", COMM, repeated=True), In("ndev", INT),
              In("devlist", INT, repeated=True)], _R, "comm_create"),
    Function(13, "ncclCommInitRankScalable", "nccl",
             [Out("newcomm", COMM), In("nranks", INT), In("myrank", INT), In("n_id", INT),
              In("comm_ids", UNIQUE_ID, repeated=True), In("config", NCCL_CONFIG)],
             _R, "comm_create", "newcomm"),
    Function(14, "ncclCommSplit", "nccl",
             [In("comm", COMM), In("color", INT), In("key", INT), Out("newcomm", COMM),
              In("config", NCCL_CONFIG)], _R, "comm_create", "comm"),
    Function(15, "ncclCommShrink", "nccl",
             [In("comm", COMM), In("exclude_ranks", INT, repeated=True),
              In("exclude_ranks_count", INT), Out("newcomm", COMM), In("config", NCCL_CONFIG),
              In("shrink_flags", FLAGS)], _R, "comm_create", "comm"),
    Function(20, "ncclCommFinalize", "nccl", [In("comm", COMM)], _R, "comm_destroy", "comm"),
    Function(21, "ncclCommDestroy", "nccl", [In("comm", COMM)], _R, "comm_destroy", "comm"),
    Function(22, "ncclCommAbort", "nccl", [In("comm", COMM)], _R, "comm_destroy", "comm"),
    Function(23, "ncclCommRevoke", "nccl", [In("comm", COMM), In("revoke_flags", FLAGS)], _R,
             "comm_destroy", "comm"),
    Function(24, "ncclCommGetAsyncError", "nccl",
             [In("comm", COMM), Out("async_error", Enum("NcclResult"))], _R, "comm_query", "comm"),
    Function(25, "ncclCommCount", "nccl", [In("comm", COMM), Out("count", INT)], _R,
             "comm_query", "comm"),
    Function(26, "ncclCommCuDevice", "nccl", [In("comm", COMM), Out("device", INT)], _R,
             "comm_query", "comm"),
    Function(27, "ncclCommUserRank", "nccl", [In("comm", COMM), Out("rank", INT)], _R,
             "comm_query", "comm"),
    Function(30, "ncclCommRegister", "nccl",
             [In("comm", COMM), In("buff", PTR), In("size", SIZE), Out("handle", NCCL_REG)], _R,
             "registration", "comm"),
    Function(31, "ncclCommDeregister", "nccl", [In("comm", COMM), In("handle", NCCL_REG)], _R,
             "registration", "comm"),
    Function(32, "ncclCommWindowRegister", "nccl",
             [In("comm", COMM), In("buff", PTR), In("size", SIZE), Out("win", NCCL_WINDOW),
              In("win_flags", FLAGS)], _R, "registration", "comm"),
    Function(33, "ncclCommWindowDeregister", "nccl", [In("comm", COMM), In("win", NCCL_WINDOW)],
             _R, "registration", "comm"),
    Function(35, "ncclRedOpCreatePreMulSum", "nccl",
             [Out("op", REDOP), In("scalar", PTR), In("datatype", DATATYPE),
              In("residence", SCALAR_RESIDENCE), In("comm", COMM),
              In("scalar_value", BYTES)], _R, "redop", "comm"),
    Function(36, "ncclRedOpDestroy", "nccl", [In("op", REDOP), In("comm", COMM)], _R, "redop",
             "comm"),
    Function(40, "ncclReduce", "nccl",
             [In("sendbuff", PTR), In("recvbuff", PTR), In("count", SIZE), In("datatype", DATATYPE),
              In("op", REDOP), In("root", INT), In("comm", COMM), In("stream", STREAM)], _R,
             "collective", "comm"),
    Function(41, "ncclBcast", "nccl",
             [In("buff", PTR), In("count", SIZE), In("datatype", DATATYPE), In("root", INT),
              In("comm", COMM), In("stream", STREAM)], _R, "collective", "comm"),
    Function(42, "ncclBroadcast", "nccl",
             [In("sendbuff", PTR), In("recvbuff", PTR), In("count", SIZE), In("datatype", DATATYPE),
              In("root", INT), In("comm", COMM), In("stream", STREAM)], _R, "collective", "comm"),
    Function(43, "ncclAllReduce", "nccl",
             [In("sendbuff", PTR), In("recvbuff", PTR), In("count", SIZE), In("datatype", DATATYPE),
              In("op", REDOP), In("comm", COMM), In("stream", STREAM)], _R, "collective", "comm"),
    Function(44, "ncclReduceScatter", "nccl",
             [In("sendbuff", PTR), In("recvbuff", PTR), In("recvcount", SIZE),
              In("datatype", DATATYPE), In("op", REDOP), In("comm", COMM), In("stream", STREAM)],
             _R, "collective", "comm"),
    Function(45, "ncclAllGather", "nccl",
             [In("sendbuff", PTR), In("recvbuff", PTR), In("sendcount", SIZE),
              In("datatype", DATATYPE), In("comm", COMM), In("stream", STREAM)], _R, "collective",
             "comm"),
    Function(46, "ncclAlltoAll", "nccl",
             [In("sendbuff", PTR), In("recvbuff", PTR), In("count", SIZE), In("datatype", DATATYPE),
              In("comm", COMM), In("stream", STREAM)], _R, "collective", "comm"),
    Function(47, "ncclGather", "nccl",
             [In("sendbuff", PTR), In("recvbuff", PTR), In("count", SIZE), In("datatype", DATATYPE),
              In("root", INT), In("comm", COMM), In("stream", STREAM)], _R, "collective", "comm"),
    Function(48, "ncclScatter", "nccl",
             [In("sendbuff", PTR), In("recvbuff", PTR), In("count", SIZE), In("datatype", DATATYPE),
              In("root", INT), In("comm", COMM), In("stream", STREAM)], _R, "collective", "comm"),
    Function(50, "ncclSend", "nccl",
             [In("sendbuff", PTR), In("count", SIZE), In("datatype", DATATYPE), In("peer", INT),
              In("comm", COMM), In("stream", STREAM)], _R, "p2p", "comm"),
    Function(51, "ncclRecv", "nccl",
             [In("recvbuff", PTR), In("count", SIZE), In("datatype", DATATYPE), In("peer", INT),
              In("comm", COMM), In("stream", STREAM)], _R, "p2p", "comm"),
    Function(55, "ncclGroupStart", "nccl", [], _R, "group"),
    Function(56, "ncclGroupEnd", "nccl", [], _R, "group"),
    Function(57, "ncclGroupSimulateEnd", "nccl", [Out("estimated_time", FLOAT)], _R, "group"),
]

# ---- CUDA runtime: the calls that matter for replay and diagnosis ------------------------------
_C = "CudaError"
CUDART = [
    Function(200, "cudaGetDeviceCount", "cudart", [Out("count", INT)], _C, "device"),
    Function(201, "cudaSetDevice", "cudart", [In("device", INT)], _C, "device"),
    Function(202, "cudaGetDevice", "cudart", [Out("device", INT)], _C, "device"),
    Function(203, "cudaDeviceSynchronize", "cudart", [], _C, "sync"),
    Function(204, "cudaDeviceReset", "cudart", [], _C, "device"),
    Function(210, "cudaMalloc", "cudart", [Out("dev_ptr", PTR), In("size", SIZE)], _C, "memory"),
    Function(211, "cudaFree", "cudart", [In("dev_ptr", PTR)], _C, "memory"),
    Function(212, "cudaMallocHost", "cudart", [Out("ptr", PTR), In("size", SIZE)], _C, "memory"),
    Function(213, "cudaFreeHost", "cudart", [In("ptr", PTR)], _C, "memory"),
    Function(214, "cudaHostAlloc", "cudart",
             [Out("host_ptr", PTR), In("size", SIZE), In("flags", FLAGS)], _C, "memory"),
    Function(215, "cudaMallocManaged", "cudart",
             [Out("dev_ptr", PTR), In("size", SIZE), In("flags", FLAGS)], _C, "memory"),
    Function(216, "cudaMallocAsync", "cudart",
             [Out("dev_ptr", PTR), In("size", SIZE), In("stream", STREAM)], _C, "memory"),
    Function(217, "cudaFreeAsync", "cudart", [In("dev_ptr", PTR), In("stream", STREAM)], _C,
             "memory"),
    Function(220, "cudaMemcpy", "cudart",
             [In("dst", PTR), In("src", PTR), In("count", SIZE), In("kind", MEMCPY_KIND)], _C,
             "copy"),
    Function(221, "cudaMemcpyAsync", "cudart",
             [In("dst", PTR), In("src", PTR), In("count", SIZE), In("kind", MEMCPY_KIND),
              In("stream", STREAM)], _C, "copy"),
    Function(222, "cudaMemset", "cudart",
             [In("dev_ptr", PTR), In("value", INT), In("count", SIZE)], _C, "copy"),
    Function(223, "cudaMemsetAsync", "cudart",
             [In("dev_ptr", PTR), In("value", INT), In("count", SIZE), In("stream", STREAM)], _C,
             "copy"),
    Function(230, "cudaStreamCreate", "cudart", [Out("stream", STREAM)], _C, "stream"),
    Function(231, "cudaStreamCreateWithFlags", "cudart",
             [Out("stream", STREAM), In("flags", FLAGS)], _C, "stream"),
    Function(232, "cudaStreamCreateWithPriority", "cudart",
             [Out("stream", STREAM), In("flags", FLAGS), In("priority", INT)], _C, "stream"),
    Function(233, "cudaStreamDestroy", "cudart", [In("stream", STREAM)], _C, "stream"),
    Function(234, "cudaStreamSynchronize", "cudart", [In("stream", STREAM)], _C, "sync"),
    Function(235, "cudaStreamQuery", "cudart", [In("stream", STREAM)], _C, "sync"),
    Function(236, "cudaStreamWaitEvent", "cudart",
             [In("stream", STREAM), In("event", EVENT), In("flags", FLAGS)], _C, "sync"),
    Function(240, "cudaEventCreate", "cudart", [Out("event", EVENT)], _C, "event"),
    Function(241, "cudaEventCreateWithFlags", "cudart", [Out("event", EVENT), In("flags", FLAGS)],
             _C, "event"),
    Function(242, "cudaEventRecord", "cudart", [In("event", EVENT), In("stream", STREAM)], _C,
             "event"),
    Function(243, "cudaEventSynchronize", "cudart", [In("event", EVENT)], _C, "sync"),
    Function(244, "cudaEventQuery", "cudart", [In("event", EVENT)], _C, "sync"),
    Function(245, "cudaEventDestroy", "cudart", [In("event", EVENT)], _C, "event"),
    Function(250, "cudaStreamBeginCapture", "cudart",
             [In("stream", STREAM), In("mode", CAPTURE_MODE)], _C, "graph"),
    Function(251, "cudaStreamEndCapture", "cudart", [In("stream", STREAM), Out("graph", GRAPH)],
             _C, "graph"),
    Function(252, "cudaGraphInstantiate", "cudart",
             [Out("graph_exec", GRAPH_EXEC), In("graph", GRAPH), In("flags", FLAGS)], _C, "graph"),
    Function(253, "cudaGraphLaunch", "cudart",
             [In("graph_exec", GRAPH_EXEC), In("stream", STREAM)], _C, "graph"),
    Function(260, "cudaLaunchKernel", "cudart",
             [In("func", FUNC), In("grid_dim", DIM3), In("block_dim", DIM3),
              In("shared_mem", SIZE), In("stream", STREAM)], _C, "launch"),
    Function(261, "__cudaLaunchKernel", "cudart",
             [In("kernel", FUNC), In("grid_dim", DIM3), In("block_dim", DIM3),
              In("shared_mem", SIZE), In("stream", STREAM)], _C, "launch"),
]

# ---- cuRAND host API ----------------------------------------------------------------------------
_Q = "CurandStatus"
CURAND = [
    Function(300, "curandCreateGenerator", "curand",
             [Out("generator", CURAND_GEN), In("rng_type", RNG_TYPE)], _Q, "rng"),
    Function(301, "curandCreateGeneratorHost", "curand",
             [Out("generator", CURAND_GEN), In("rng_type", RNG_TYPE)], _Q, "rng"),
    Function(302, "curandDestroyGenerator", "curand", [In("generator", CURAND_GEN)], _Q, "rng"),
    Function(303, "curandSetPseudoRandomGeneratorSeed", "curand",
             [In("generator", CURAND_GEN), In("seed", UINT64)], _Q, "rng"),
    Function(304, "curandSetGeneratorOffset", "curand",
             [In("generator", CURAND_GEN), In("offset", UINT64)], _Q, "rng"),
    Function(305, "curandSetStream", "curand",
             [In("generator", CURAND_GEN), In("stream", STREAM)], _Q, "rng"),
    Function(310, "curandGenerate", "curand",
             [In("generator", CURAND_GEN), In("output_ptr", PTR), In("num", SIZE)], _Q,
             "rng_generate"),
    Function(311, "curandGenerateUniform", "curand",
             [In("generator", CURAND_GEN), In("output_ptr", PTR), In("num", SIZE)], _Q,
             "rng_generate"),
    Function(312, "curandGenerateNormal", "curand",
             [In("generator", CURAND_GEN), In("output_ptr", PTR), In("n", SIZE), In("mean", FLOAT),
              In("stddev", FLOAT)], _Q, "rng_generate"),
    Function(313, "curandGenerateUniformDouble", "curand",
             [In("generator", CURAND_GEN), In("output_ptr", PTR), In("num", SIZE)], _Q,
             "rng_generate"),
    Function(314, "curandGenerateNormalDouble", "curand",
             [In("generator", CURAND_GEN), In("output_ptr", PTR), In("n", SIZE),
              In("mean", DOUBLE), In("stddev", DOUBLE)], _Q, "rng_generate"),
    Function(315, "curandGenerateLongLong", "curand",
             [In("generator", CURAND_GEN), In("output_ptr", PTR), In("num", SIZE)], _Q,
             "rng_generate"),
]

FUNCTIONS = NCCL + CUDART + CURAND

# ---- enums shown by name in dumps (values from the 2.28.9 / 13.0 headers) -----------------------
# Proto enum values share one namespace per package, hence the prefixes.
ENUMS = {
    "NcclResult": [("ncclSuccess", 0), ("ncclUnhandledCudaError", 1), ("ncclSystemError", 2),
                   ("ncclInternalError", 3), ("ncclInvalidArgument", 4), ("ncclInvalidUsage", 5),
                   ("ncclRemoteError", 6), ("ncclInProgress", 7)],
    "NcclDataType": [("ncclInt8", 0), ("ncclUint8", 1), ("ncclInt32", 2), ("ncclUint32", 3),
                     ("ncclInt64", 4), ("ncclUint64", 5), ("ncclFloat16", 6), ("ncclFloat32", 7),
                     ("ncclFloat64", 8), ("ncclBfloat16", 9), ("ncclFloat8e4m3", 10),
                     ("ncclFloat8e5m2", 11)],
    "NcclRedOp": [("ncclSum", 0), ("ncclProd", 1), ("ncclMax", 2), ("ncclMin", 3), ("ncclAvg", 4)],
    "NcclScalarResidence": [("ncclScalarDevice", 0), ("ncclScalarHostImmediate", 1)],
    "CudaMemcpyKind": [("cudaMemcpyHostToHost", 0), ("cudaMemcpyHostToDevice", 1),
                       ("cudaMemcpyDeviceToHost", 2), ("cudaMemcpyDeviceToDevice", 3),
                       ("cudaMemcpyDefault", 4)],
    "CudaStreamCaptureMode": [("cudaStreamCaptureModeGlobal", 0),
                              ("cudaStreamCaptureModeThreadLocal", 1),
                              ("cudaStreamCaptureModeRelaxed", 2)],
    "CurandRngType": [("CURAND_RNG_TEST", 0), ("CURAND_RNG_PSEUDO_DEFAULT", 100),
                      ("CURAND_RNG_PSEUDO_XORWOW", 101), ("CURAND_RNG_PSEUDO_MRG32K3A", 121),
                      ("CURAND_RNG_PSEUDO_MTGP32", 141), ("CURAND_RNG_PSEUDO_MT19937", 142),
                      ("CURAND_RNG_PSEUDO_PHILOX4_32_10", 161),
                      ("CURAND_RNG_QUASI_DEFAULT", 200), ("CURAND_RNG_QUASI_SOBOL32", 201),
                      ("CURAND_RNG_QUASI_SCRAMBLED_SOBOL32", 202),
                      ("CURAND_RNG_QUASI_SOBOL64", 203),
                      ("CURAND_RNG_QUASI_SCRAMBLED_SOBOL64", 204)],
    "CurandStatus": [("CURAND_STATUS_SUCCESS", 0), ("CURAND_STATUS_VERSION_MISMATCH", 100),
                     ("CURAND_STATUS_NOT_INITIALIZED", 101),
                     ("CURAND_STATUS_ALLOCATION_FAILED", 102), ("CURAND_STATUS_TYPE_ERROR", 103),
                     ("CURAND_STATUS_OUT_OF_RANGE", 104),
                     ("CURAND_STATUS_LENGTH_NOT_MULTIPLE", 105),
                     ("CURAND_STATUS_DOUBLE_PRECISION_REQUIRED", 106),
                     ("CURAND_STATUS_LAUNCH_FAILURE", 201),
                     ("CURAND_STATUS_PREEXISTING_FAILURE", 202),
                     ("CURAND_STATUS_INITIALIZATION_FAILED", 203),
                     ("CURAND_STATUS_ARCH_MISMATCH", 204), ("CURAND_STATUS_INTERNAL_ERROR", 999)],
    # The codes a training job meets most; others print as numbers.
    "CudaError": [("cudaSuccess", 0), ("cudaErrorInvalidValue", 1),
                  ("cudaErrorMemoryAllocation", 2), ("cudaErrorInitializationError", 3),
                  ("cudaErrorCudartUnloading", 4), ("cudaErrorInvalidConfiguration", 9),
                  ("cudaErrorInvalidPitchValue", 12), ("cudaErrorInvalidSymbol", 13),
                  ("cudaErrorInvalidDevicePointer", 17), ("cudaErrorInvalidMemcpyDirection", 21),
                  ("cudaErrorInsufficientDriver", 35), ("cudaErrorInvalidDevice", 101),
                  ("cudaErrorNoDevice", 100), ("cudaErrorNoKernelImageForDevice", 209),
                  ("cudaErrorInvalidResourceHandle", 400), ("cudaErrorNotReady", 600),
                  ("cudaErrorIllegalAddress", 700), ("cudaErrorLaunchOutOfResources", 701),
                  ("cudaErrorLaunchTimeout", 702), ("cudaErrorLaunchFailure", 719),
                  ("cudaErrorStreamCaptureUnsupported", 900),
                  ("cudaErrorStreamCaptureInvalidated", 901), ("cudaErrorNotSupported", 801),
                  ("cudaErrorUnknown", 999)],
}


def validate():
    """Ids unique, names unique, enums referenced exist. Run by the generator."""
    ids, names = set(), set()
    for f in FUNCTIONS:
        assert f.id not in ids, f"duplicate function id {f.id} ({f.name})"
        assert f.name not in names, f"duplicate function {f.name}"
        ids.add(f.id)
        names.add(f.name)
        assert 1 <= f.id < 19000, f.name
        if f.result:
            assert f.result in ENUMS, f"{f.name}: unknown result enum {f.result}"
        for a in f.args:
            if a.type.kind == "ARG_ENUM":
                assert a.type.proto in ENUMS, f"{f.name}.{a.name}: unknown enum {a.type.proto}"
        if f.comm_arg:
            assert f.comm_arg in [a.name for a in f.args], f"{f.name}: no arg {f.comm_arg}"
    by_name = {f.name: f for f in FUNCTIONS}
    for name, buffers in BUFFERS.items():
        f = by_name[name]
        assert f.category in ("collective", "p2p"), name
        arg_names = [a.name for a in f.args]
        for role, buf, _count, whose in buffers:
            assert role in ("in", "out") and whose in ("all", "root"), (name, buf)
            assert buf in arg_names, f"{name}: no buffer arg {buf}"
            assert whose == "all" or "root" in arg_names, f"{name}: root-only without a root"
    for f in FUNCTIONS:
        if f.category in ("collective", "p2p"):
            assert f.name in BUFFERS, f"{f.name}: say which buffers it reads and writes"


# ---- C signatures, for the generated wrappers --------------------------------------------------
# Parameter types in C order, exactly as the library's header declares them (the compiler checks
# every generated definition against the real header, so a mismatch does not build). A spec
# argument beyond the C parameters is derived (EXTRA_ARGS). Functions without an entry here get
# no wrapper yet (CUDA runtime and cuRAND wrappers come next).
C_RESULT = {"ncclGetErrorString": "const char*", "ncclGetLastError": "const char*",
            "ncclResetDebugInit": "void"}
_COLL = ["const void*", "void*", "size_t", "ncclDataType_t"]
C_PARAMS = {
    "ncclGetVersion": ["int*"],
    "ncclGetUniqueId": ["ncclUniqueId*"],
    "ncclGetErrorString": ["ncclResult_t"],
    "ncclGetLastError": ["ncclComm_t"],
    "ncclResetDebugInit": [],
    "ncclMemAlloc": ["void**", "size_t"],
    "ncclMemFree": ["void*"],
    "ncclCommInitRank": ["ncclComm_t*", "int", "ncclUniqueId", "int"],
    "ncclCommInitRankConfig": ["ncclComm_t*", "int", "ncclUniqueId", "int", "ncclConfig_t*"],
    "ncclCommInitAll": ["ncclComm_t*", "int", "const int*"],
    "ncclCommInitRankScalable": ["ncclComm_t*", "int", "int", "int", "ncclUniqueId*",
                                 "ncclConfig_t*"],
    "ncclCommSplit": ["ncclComm_t", "int", "int", "ncclComm_t*", "ncclConfig_t*"],
    "ncclCommShrink": ["ncclComm_t", "int*", "int", "ncclComm_t*", "ncclConfig_t*", "int"],
    "ncclCommFinalize": ["ncclComm_t"],
    "ncclCommDestroy": ["ncclComm_t"],
    "ncclCommAbort": ["ncclComm_t"],
    "ncclCommRevoke": ["ncclComm_t", "int"],
    "ncclCommGetAsyncError": ["ncclComm_t", "ncclResult_t*"],
    "ncclCommCount": ["const ncclComm_t", "int*"],
    "ncclCommCuDevice": ["const ncclComm_t", "int*"],
    "ncclCommUserRank": ["const ncclComm_t", "int*"],
    "ncclCommRegister": ["const ncclComm_t", "void*", "size_t", "void**"],
    "ncclCommDeregister": ["const ncclComm_t", "void*"],
    "ncclCommWindowRegister": ["ncclComm_t", "void*", "size_t", "ncclWindow_t*", "int"],
    "ncclCommWindowDeregister": ["ncclComm_t", "ncclWindow_t"],
    "ncclRedOpCreatePreMulSum": ["ncclRedOp_t*", "void*", "ncclDataType_t",
                                 "ncclScalarResidence_t", "ncclComm_t"],
    "ncclRedOpDestroy": ["ncclRedOp_t", "ncclComm_t"],
    "ncclReduce": _COLL + ["ncclRedOp_t", "int", "ncclComm_t", "cudaStream_t"],
    "ncclBcast": ["void*", "size_t", "ncclDataType_t", "int", "ncclComm_t", "cudaStream_t"],
    "ncclBroadcast": _COLL + ["int", "ncclComm_t", "cudaStream_t"],
    "ncclAllReduce": _COLL + ["ncclRedOp_t", "ncclComm_t", "cudaStream_t"],
    "ncclReduceScatter": _COLL + ["ncclRedOp_t", "ncclComm_t", "cudaStream_t"],
    "ncclAllGather": _COLL + ["ncclComm_t", "cudaStream_t"],
    "ncclAlltoAll": _COLL + ["ncclComm_t", "cudaStream_t"],
    "ncclGather": _COLL + ["int", "ncclComm_t", "cudaStream_t"],
    "ncclScatter": _COLL + ["int", "ncclComm_t", "cudaStream_t"],
    "ncclSend": ["const void*", "size_t", "ncclDataType_t", "int", "ncclComm_t", "cudaStream_t"],
    "ncclRecv": ["void*", "size_t", "ncclDataType_t", "int", "ncclComm_t", "cudaStream_t"],
    "ncclGroupStart": [],
    "ncclGroupEnd": [],
    "ncclGroupSimulateEnd": ["ncclSimInfo_t*"],
}
# How a repeated argument's length is known (another argument's C name).
REPEAT_COUNT = {("ncclCommInitAll", "comms"): "ndev", ("ncclCommInitAll", "devlist"): "ndev",
                ("ncclCommInitRankScalable", "comm_ids"): "n_id",
                ("ncclCommShrink", "exclude_ranks"): "exclude_ranks_count"}
# Spec arguments with no C parameter: the C++ expression that computes them in the wrapper.
EXTRA_ARGS = {("ncclRedOpCreatePreMulSum", "scalar_value"):
              "::ddrr::interpose::ScalarBytes(scalar, datatype, residence)"}
# Out-arguments read through a struct rather than a plain pointer.
OUT_EXPR = {("ncclGroupSimulateEnd", "estimated_time"):
            "(estimated_time ? estimated_time->estimatedTime : 0.0f)"}

# Data buffers of collectives and p2p, for the digests and payloads capture levels: (role, buffer
# argument, element count, whose data it is). The count is a C++ expression over the arguments;
# `nranks` is the communicator's size. "root": only the root's buffer means anything (a
# Broadcast's input, a Reduce's output); "all": every rank's.
BUFFERS = {
    "ncclAllReduce": [("in", "sendbuff", "count", "all"), ("out", "recvbuff", "count", "all")],
    "ncclBroadcast": [("in", "sendbuff", "count", "root"), ("out", "recvbuff", "count", "all")],
    "ncclBcast": [("in", "buff", "count", "root"), ("out", "buff", "count", "all")],
    "ncclReduce": [("in", "sendbuff", "count", "all"), ("out", "recvbuff", "count", "root")],
    "ncclAllGather": [("in", "sendbuff", "sendcount", "all"),
                      ("out", "recvbuff", "sendcount * nranks", "all")],
    "ncclReduceScatter": [("in", "sendbuff", "recvcount * nranks", "all"),
                          ("out", "recvbuff", "recvcount", "all")],
    "ncclAlltoAll": [("in", "sendbuff", "count * nranks", "all"),
                     ("out", "recvbuff", "count * nranks", "all")],
    "ncclGather": [("in", "sendbuff", "count", "all"),
                   ("out", "recvbuff", "count * nranks", "root")],
    "ncclScatter": [("in", "sendbuff", "count * nranks", "root"),
                    ("out", "recvbuff", "count", "all")],
    "ncclSend": [("in", "sendbuff", "count", "all")],
    "ncclRecv": [("out", "recvbuff", "count", "all")],
}

C_PARAMS.update({
    "cudaGetDeviceCount": ["int*"],
    "cudaSetDevice": ["int"],
    "cudaGetDevice": ["int*"],
    "cudaDeviceSynchronize": [],
    "cudaDeviceReset": [],
    "cudaMalloc": ["void**", "size_t"],
    "cudaFree": ["void*"],
    "cudaMallocHost": ["void**", "size_t"],
    "cudaFreeHost": ["void*"],
    "cudaHostAlloc": ["void**", "size_t", "unsigned int"],
    "cudaMallocManaged": ["void**", "size_t", "unsigned int"],
    "cudaMallocAsync": ["void**", "size_t", "cudaStream_t"],
    "cudaFreeAsync": ["void*", "cudaStream_t"],
    "cudaMemcpy": ["void*", "const void*", "size_t", "enum cudaMemcpyKind"],
    "cudaMemcpyAsync": ["void*", "const void*", "size_t", "enum cudaMemcpyKind", "cudaStream_t"],
    "cudaMemset": ["void*", "int", "size_t"],
    "cudaMemsetAsync": ["void*", "int", "size_t", "cudaStream_t"],
    "cudaStreamCreate": ["cudaStream_t*"],
    "cudaStreamCreateWithFlags": ["cudaStream_t*", "unsigned int"],
    "cudaStreamCreateWithPriority": ["cudaStream_t*", "unsigned int", "int"],
    "cudaStreamDestroy": ["cudaStream_t"],
    "cudaStreamSynchronize": ["cudaStream_t"],
    "cudaStreamQuery": ["cudaStream_t"],
    "cudaStreamWaitEvent": ["cudaStream_t", "cudaEvent_t", "unsigned int"],
    "cudaEventCreate": ["cudaEvent_t*"],
    "cudaEventCreateWithFlags": ["cudaEvent_t*", "unsigned int"],
    "cudaEventRecord": ["cudaEvent_t", "cudaStream_t"],
    "cudaEventSynchronize": ["cudaEvent_t"],
    "cudaEventQuery": ["cudaEvent_t"],
    "cudaEventDestroy": ["cudaEvent_t"],
    "cudaStreamBeginCapture": ["cudaStream_t", "enum cudaStreamCaptureMode"],
    "cudaStreamEndCapture": ["cudaStream_t", "cudaGraph_t*"],
    "cudaGraphInstantiate": ["cudaGraphExec_t*", "cudaGraph_t", "unsigned long long"],
    "cudaGraphLaunch": ["cudaGraphExec_t", "cudaStream_t"],
    "curandCreateGenerator": ["curandGenerator_t*", "curandRngType_t"],
    "curandCreateGeneratorHost": ["curandGenerator_t*", "curandRngType_t"],
    "curandDestroyGenerator": ["curandGenerator_t"],
    "curandSetPseudoRandomGeneratorSeed": ["curandGenerator_t", "unsigned long long"],
    "curandSetGeneratorOffset": ["curandGenerator_t", "unsigned long long"],
    "curandSetStream": ["curandGenerator_t", "cudaStream_t"],
    "curandGenerate": ["curandGenerator_t", "unsigned int*", "size_t"],
    "curandGenerateUniform": ["curandGenerator_t", "float*", "size_t"],
    "curandGenerateNormal": ["curandGenerator_t", "float*", "size_t", "float", "float"],
    "curandGenerateUniformDouble": ["curandGenerator_t", "double*", "size_t"],
    "curandGenerateNormalDouble": ["curandGenerator_t", "double*", "size_t", "double", "double"],
    "curandGenerateLongLong": ["curandGenerator_t", "unsigned long long*", "size_t"],
})
# Default result type per library.
LIBRARY_RESULT = {"nccl": "ncclResult_t", "cudart": "cudaError_t", "curand": "curandStatus_t"}
