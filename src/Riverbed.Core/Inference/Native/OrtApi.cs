namespace Riverbed.Inference.Native;

/// <summary>
/// The slice of ONNX Runtime's C function table (<c>OrtApi</c>, API version 29) that Riverbed calls. Each member
/// calls through the function pointer at the slot the 1.29 header declares; slot numbers are positions in
/// <c>struct OrtApi</c>, counted from 0. Functions that return an <c>OrtStatus*</c> return it as is: callers pass it
/// to <see cref="OrtStatus.Check"/>, the one place a status becomes an exception.
/// </summary>
internal static unsafe class OrtApi
{
    /// <summary>The API version <see cref="OrtApiSlots"/> belongs to (ORT_API_VERSION of the 1.29 header).</summary>
    public const uint Version = 29;

    private static void** _table;

    /// <summary>Called once by <see cref="OrtLibrary"/> with the table <c>GetApi(29)</c> returned.</summary>
    internal static void Attach(void* table) => _table = (void**)table;

    private static void* Slot(int index) => _table[index];

    // --- status -------------------------------------------------------------------------------------------------

    public static nint CreateStatus(int code, byte* message) =>
        ((delegate* unmanaged<int, byte*, nint>)Slot(OrtApiSlots.CreateStatus))(code, message);

    public static int GetErrorCode(nint status) => ((delegate* unmanaged<nint, int>)Slot(OrtApiSlots.GetErrorCode))(status);

    public static byte* GetErrorMessage(nint status) => ((delegate* unmanaged<nint, byte*>)Slot(OrtApiSlots.GetErrorMessage))(status);

    public static void ReleaseStatus(nint status) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseStatus))(status);

    // --- environment and build ----------------------------------------------------------------------------------

    public static nint CreateEnv(int logLevel, byte* logId, nint* env) =>
        ((delegate* unmanaged<int, byte*, nint*, nint>)Slot(OrtApiSlots.CreateEnv))(logLevel, logId, env);

    public static void ReleaseEnv(nint env) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseEnv))(env);

    public static nint GetAvailableProviders(byte*** providers, int* count) =>
        ((delegate* unmanaged<byte***, int*, nint>)Slot(OrtApiSlots.GetAvailableProviders))(providers, count);

    public static nint ReleaseAvailableProviders(byte** providers, int count) =>
        ((delegate* unmanaged<byte**, int, nint>)Slot(OrtApiSlots.ReleaseAvailableProviders))(providers, count);

    public static byte* GetBuildInfoString() => ((delegate* unmanaged<byte*>)Slot(OrtApiSlots.GetBuildInfoString))();

    // --- session options ----------------------------------------------------------------------------------------

    public static nint CreateSessionOptions(nint* options) =>
        ((delegate* unmanaged<nint*, nint>)Slot(OrtApiSlots.CreateSessionOptions))(options);

    public static void ReleaseSessionOptions(nint options) =>
        ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseSessionOptions))(options);

    public static nint SetIntraOpNumThreads(nint options, int threads) =>
        ((delegate* unmanaged<nint, int, nint>)Slot(OrtApiSlots.SetIntraOpNumThreads))(options, threads);

    public static nint SetInterOpNumThreads(nint options, int threads) =>
        ((delegate* unmanaged<nint, int, nint>)Slot(OrtApiSlots.SetInterOpNumThreads))(options, threads);

    public static nint SetSessionGraphOptimizationLevel(nint options, int level) =>
        ((delegate* unmanaged<nint, int, nint>)Slot(OrtApiSlots.SetSessionGraphOptimizationLevel))(options, level);

    public static nint SetSessionExecutionMode(nint options, int mode) =>
        ((delegate* unmanaged<nint, int, nint>)Slot(OrtApiSlots.SetSessionExecutionMode))(options, mode);

    public static nint SetSessionLogSeverityLevel(nint options, int level) =>
        ((delegate* unmanaged<nint, int, nint>)Slot(OrtApiSlots.SetSessionLogSeverityLevel))(options, level);

    public static nint EnableMemPattern(nint options) => ((delegate* unmanaged<nint, nint>)Slot(OrtApiSlots.EnableMemPattern))(options);

    public static nint DisableMemPattern(nint options) => ((delegate* unmanaged<nint, nint>)Slot(OrtApiSlots.DisableMemPattern))(options);

    public static nint EnableCpuMemArena(nint options) => ((delegate* unmanaged<nint, nint>)Slot(OrtApiSlots.EnableCpuMemArena))(options);

    public static nint DisableCpuMemArena(nint options) => ((delegate* unmanaged<nint, nint>)Slot(OrtApiSlots.DisableCpuMemArena))(options);

    public static nint AddSessionConfigEntry(nint options, byte* key, byte* value) =>
        ((delegate* unmanaged<nint, byte*, byte*, nint>)Slot(OrtApiSlots.AddSessionConfigEntry))(options, key, value);

    // --- execution providers ------------------------------------------------------------------------------------

    public static nint CreateCudaProviderOptions(nint* cudaOptions) =>
        ((delegate* unmanaged<nint*, nint>)Slot(OrtApiSlots.CreateCUDAProviderOptions))(cudaOptions);

    public static nint UpdateCudaProviderOptions(nint cudaOptions, byte** keys, byte** values, nuint count) =>
        ((delegate* unmanaged<nint, byte**, byte**, nuint, nint>)Slot(OrtApiSlots.UpdateCUDAProviderOptions))(cudaOptions, keys, values, count);

    public static nint SessionOptionsAppendExecutionProviderCudaV2(nint options, nint cudaOptions) =>
        ((delegate* unmanaged<nint, nint, nint>)Slot(OrtApiSlots.SessionOptionsAppendExecutionProvider_CUDA_V2))(options, cudaOptions);

    public static void ReleaseCudaProviderOptions(nint cudaOptions) =>
        ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseCUDAProviderOptions))(cudaOptions);

    public static nint RegisterExecutionProviderLibrary(nint env, byte* registrationName, byte* path) =>
        ((delegate* unmanaged<nint, byte*, byte*, nint>)Slot(OrtApiSlots.RegisterExecutionProviderLibrary))(env, registrationName, path);

    public static nint GetEpDevices(nint env, nint** devices, nuint* count) =>
        ((delegate* unmanaged<nint, nint**, nuint*, nint>)Slot(OrtApiSlots.GetEpDevices))(env, devices, count);

    public static nint SessionOptionsAppendExecutionProviderV2(nint options, nint env, nint* devices, nuint deviceCount,
        byte** keys, byte** values, nuint optionCount) =>
        ((delegate* unmanaged<nint, nint, nint*, nuint, byte**, byte**, nuint, nint>)Slot(OrtApiSlots.SessionOptionsAppendExecutionProvider_V2))(
            options, env, devices, deviceCount, keys, values, optionCount);

    public static byte* EpDeviceEpName(nint device) => ((delegate* unmanaged<nint, byte*>)Slot(OrtApiSlots.EpDevice_EpName))(device);

    public static nint EpDeviceEpOptions(nint device) => ((delegate* unmanaged<nint, nint>)Slot(OrtApiSlots.EpDevice_EpOptions))(device);

    public static nint EpDeviceDevice(nint device) => ((delegate* unmanaged<nint, nint>)Slot(OrtApiSlots.EpDevice_Device))(device);

    public static uint HardwareDeviceDeviceId(nint hardwareDevice) =>
        ((delegate* unmanaged<nint, uint>)Slot(OrtApiSlots.HardwareDevice_DeviceId))(hardwareDevice);

    /// <summary>The device's memory info for <paramref name="memoryType"/>; owned by the device, never released.</summary>
    public static nint EpDeviceMemoryInfo(nint device, int memoryType) =>
        ((delegate* unmanaged<nint, int, nint>)Slot(OrtApiSlots.EpDevice_MemoryInfo))(device, memoryType);

    public static byte* GetKeyValue(nint keyValuePairs, byte* key) =>
        ((delegate* unmanaged<nint, byte*, byte*>)Slot(OrtApiSlots.GetKeyValue))(keyValuePairs, key);

    // --- sessions -----------------------------------------------------------------------------------------------

    public static nint CreateSession(nint env, byte* modelPath, nint options, nint* session) =>
        ((delegate* unmanaged<nint, byte*, nint, nint*, nint>)Slot(OrtApiSlots.CreateSession))(env, modelPath, options, session);

    public static nint CreateSessionFromArray(nint env, byte* model, nuint length, nint options, nint* session) =>
        ((delegate* unmanaged<nint, byte*, nuint, nint, nint*, nint>)Slot(OrtApiSlots.CreateSessionFromArray))(env, model, length, options, session);

    public static void ReleaseSession(nint session) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseSession))(session);

    public static nint SessionGetInputCount(nint session, nuint* count) =>
        ((delegate* unmanaged<nint, nuint*, nint>)Slot(OrtApiSlots.SessionGetInputCount))(session, count);

    public static nint SessionGetOutputCount(nint session, nuint* count) =>
        ((delegate* unmanaged<nint, nuint*, nint>)Slot(OrtApiSlots.SessionGetOutputCount))(session, count);

    public static nint SessionGetInputName(nint session, nuint index, nint allocator, byte** name) =>
        ((delegate* unmanaged<nint, nuint, nint, byte**, nint>)Slot(OrtApiSlots.SessionGetInputName))(session, index, allocator, name);

    public static nint SessionGetOutputName(nint session, nuint index, nint allocator, byte** name) =>
        ((delegate* unmanaged<nint, nuint, nint, byte**, nint>)Slot(OrtApiSlots.SessionGetOutputName))(session, index, allocator, name);

    public static nint SessionGetInputTypeInfo(nint session, nuint index, nint* typeInfo) =>
        ((delegate* unmanaged<nint, nuint, nint*, nint>)Slot(OrtApiSlots.SessionGetInputTypeInfo))(session, index, typeInfo);

    public static nint SessionGetOutputTypeInfo(nint session, nuint index, nint* typeInfo) =>
        ((delegate* unmanaged<nint, nuint, nint*, nint>)Slot(OrtApiSlots.SessionGetOutputTypeInfo))(session, index, typeInfo);

    public static nint SessionGetModelMetadata(nint session, nint* metadata) =>
        ((delegate* unmanaged<nint, nint*, nint>)Slot(OrtApiSlots.SessionGetModelMetadata))(session, metadata);

    public static nint ModelMetadataGetProducerName(nint metadata, nint allocator, byte** value) =>
        ((delegate* unmanaged<nint, nint, byte**, nint>)Slot(OrtApiSlots.ModelMetadataGetProducerName))(metadata, allocator, value);

    public static void ReleaseModelMetadata(nint metadata) =>
        ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseModelMetadata))(metadata);

    public static nint Run(nint session, nint runOptions, byte** inputNames, nint* inputs, nuint inputCount,
        byte** outputNames, nuint outputCount, nint* outputs) =>
        ((delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)Slot(OrtApiSlots.Run))(
            session, runOptions, inputNames, inputs, inputCount, outputNames, outputCount, outputs);

    public static nint CreateRunOptions(nint* runOptions) => ((delegate* unmanaged<nint*, nint>)Slot(OrtApiSlots.CreateRunOptions))(runOptions);

    public static void ReleaseRunOptions(nint runOptions) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseRunOptions))(runOptions);

    public static nint RunOptionsSetTerminate(nint runOptions) =>
        ((delegate* unmanaged<nint, nint>)Slot(OrtApiSlots.RunOptionsSetTerminate))(runOptions);

    // --- type information ---------------------------------------------------------------------------------------

    public static void ReleaseTypeInfo(nint typeInfo) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseTypeInfo))(typeInfo);

    /// <summary>The tensor view of a type info; owned by the type info (or null when it is not a tensor).</summary>
    public static nint CastTypeInfoToTensorInfo(nint typeInfo, nint* tensorInfo) =>
        ((delegate* unmanaged<nint, nint*, nint>)Slot(OrtApiSlots.CastTypeInfoToTensorInfo))(typeInfo, tensorInfo);

    public static nint GetOnnxTypeFromTypeInfo(nint typeInfo, int* onnxType) =>
        ((delegate* unmanaged<nint, int*, nint>)Slot(OrtApiSlots.GetOnnxTypeFromTypeInfo))(typeInfo, onnxType);

    public static nint GetTensorElementType(nint tensorInfo, int* elementType) =>
        ((delegate* unmanaged<nint, int*, nint>)Slot(OrtApiSlots.GetTensorElementType))(tensorInfo, elementType);

    public static nint GetDimensionsCount(nint tensorInfo, nuint* count) =>
        ((delegate* unmanaged<nint, nuint*, nint>)Slot(OrtApiSlots.GetDimensionsCount))(tensorInfo, count);

    public static nint GetDimensions(nint tensorInfo, long* dims, nuint count) =>
        ((delegate* unmanaged<nint, long*, nuint, nint>)Slot(OrtApiSlots.GetDimensions))(tensorInfo, dims, count);

    /// <summary>Symbolic dimension names; the strings belong to the tensor info.</summary>
    public static nint GetSymbolicDimensions(nint tensorInfo, byte** names, nuint count) =>
        ((delegate* unmanaged<nint, byte**, nuint, nint>)Slot(OrtApiSlots.GetSymbolicDimensions))(tensorInfo, names, count);

    public static nint GetTensorTypeAndShape(nint value, nint* tensorInfo) =>
        ((delegate* unmanaged<nint, nint*, nint>)Slot(OrtApiSlots.GetTensorTypeAndShape))(value, tensorInfo);

    public static void ReleaseTensorTypeAndShapeInfo(nint tensorInfo) =>
        ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseTensorTypeAndShapeInfo))(tensorInfo);

    // --- memory and values --------------------------------------------------------------------------------------

    public static nint CreateCpuMemoryInfo(int allocatorType, int memoryType, nint* memoryInfo) =>
        ((delegate* unmanaged<int, int, nint*, nint>)Slot(OrtApiSlots.CreateCpuMemoryInfo))(allocatorType, memoryType, memoryInfo);

    public static nint CreateMemoryInfo(byte* name, int allocatorType, int deviceId, int memoryType, nint* memoryInfo) =>
        ((delegate* unmanaged<byte*, int, int, int, nint*, nint>)Slot(OrtApiSlots.CreateMemoryInfo))(name, allocatorType, deviceId, memoryType, memoryInfo);

    public static void ReleaseMemoryInfo(nint memoryInfo) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseMemoryInfo))(memoryInfo);

    public static void MemoryInfoGetDeviceType(nint memoryInfo, int* deviceType) =>
        ((delegate* unmanaged<nint, int*, void>)Slot(OrtApiSlots.MemoryInfoGetDeviceType))(memoryInfo, deviceType);

    public static nint GetAllocatorWithDefaultOptions(nint* allocator) =>
        ((delegate* unmanaged<nint*, nint>)Slot(OrtApiSlots.GetAllocatorWithDefaultOptions))(allocator);

    public static nint AllocatorFree(nint allocator, void* pointer) =>
        ((delegate* unmanaged<nint, void*, nint>)Slot(OrtApiSlots.AllocatorFree))(allocator, pointer);

    public static nint CreateTensorWithDataAsOrtValue(nint memoryInfo, void* data, nuint byteLength, long* shape,
        nuint rank, int elementType, nint* value) =>
        ((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)Slot(OrtApiSlots.CreateTensorWithDataAsOrtValue))(
            memoryInfo, data, byteLength, shape, rank, elementType, value);

    public static nint GetTensorMutableData(nint value, void** data) =>
        ((delegate* unmanaged<nint, void**, nint>)Slot(OrtApiSlots.GetTensorMutableData))(value, data);

    /// <summary>Where a tensor's data lives; the memory info belongs to the value.</summary>
    public static nint GetTensorMemoryInfo(nint value, nint* memoryInfo) =>
        ((delegate* unmanaged<nint, nint*, nint>)Slot(OrtApiSlots.GetTensorMemoryInfo))(value, memoryInfo);

    public static void ReleaseValue(nint value) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseValue))(value);

    // --- IO binding ---------------------------------------------------------------------------------------------

    public static nint CreateIoBinding(nint session, nint* binding) =>
        ((delegate* unmanaged<nint, nint*, nint>)Slot(OrtApiSlots.CreateIoBinding))(session, binding);

    public static void ReleaseIoBinding(nint binding) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ReleaseIoBinding))(binding);

    public static nint BindInput(nint binding, byte* name, nint value) =>
        ((delegate* unmanaged<nint, byte*, nint, nint>)Slot(OrtApiSlots.BindInput))(binding, name, value);

    public static nint BindOutput(nint binding, byte* name, nint value) =>
        ((delegate* unmanaged<nint, byte*, nint, nint>)Slot(OrtApiSlots.BindOutput))(binding, name, value);

    public static nint BindOutputToDevice(nint binding, byte* name, nint memoryInfo) =>
        ((delegate* unmanaged<nint, byte*, nint, nint>)Slot(OrtApiSlots.BindOutputToDevice))(binding, name, memoryInfo);

    public static nint GetBoundOutputValues(nint binding, nint allocator, nint** values, nuint* count) =>
        ((delegate* unmanaged<nint, nint, nint**, nuint*, nint>)Slot(OrtApiSlots.GetBoundOutputValues))(binding, allocator, values, count);

    public static void ClearBoundInputs(nint binding) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ClearBoundInputs))(binding);

    public static void ClearBoundOutputs(nint binding) => ((delegate* unmanaged<nint, void>)Slot(OrtApiSlots.ClearBoundOutputs))(binding);

    public static nint SynchronizeBoundInputs(nint binding) =>
        ((delegate* unmanaged<nint, nint>)Slot(OrtApiSlots.SynchronizeBoundInputs))(binding);

    public static nint SynchronizeBoundOutputs(nint binding) =>
        ((delegate* unmanaged<nint, nint>)Slot(OrtApiSlots.SynchronizeBoundOutputs))(binding);

    public static nint RunWithBinding(nint session, nint runOptions, nint binding) =>
        ((delegate* unmanaged<nint, nint, nint, nint>)Slot(OrtApiSlots.RunWithBinding))(session, runOptions, binding);
}
