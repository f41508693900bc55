// The .NET runtime starts in tinylm-worker.js (dotnet.create()); the work happens in Interop.
return 0;
