namespace Spiking.Cli;

/// <summary>
/// The exit status of <c>spiking</c>, one per kind of outcome, so a script can tell a bad command line from bad data,
/// a failed check or a bug; <c>spiking help</c> lists them.
/// </summary>
internal enum ExitCode
{
    /// <summary>The command did what was asked.</summary>
    Success = 0,

    /// <summary>A check ran and found a difference: a conformance case or a GPU kernel is out of tolerance.</summary>
    CheckFailed = 1,

    /// <summary>The command line cannot be understood: unknown command or option, missing or invalid value, stray word.</summary>
    Usage = 2,

    /// <summary>An input file or folder is missing, unreadable, or does not hold what the command needs.</summary>
    InputData = 3,

    /// <summary>An output (<c>--out</c>, <c>--json</c>, <c>--plot</c>) cannot be written.</summary>
    Output = 4,

    /// <summary>Training diverged: a loss, gradient or parameter stopped being finite.</summary>
    Diverged = 5,

    /// <summary>The requested device cannot be used here (no CUDA driver or GPU).</summary>
    Unavailable = 6,

    /// <summary>The run needs more memory than the machine gives it.</summary>
    OutOfMemory = 7,

    /// <summary>A bug in spiking: reported with its stack trace and a request to file it.</summary>
    InternalError = 70,
}

/// <summary>A user error: reported as one line <c>spiking: message</c> and exit status <see cref="Code"/>, never with a stack trace.</summary>
internal class CliException(ExitCode code, string message) : System.Exception(message)
{
    /// <summary>The exit status this error ends the command with.</summary>
    public ExitCode Code { get; } = code;
}

/// <summary>A command line that cannot be understood (exit 2).</summary>
internal sealed class UsageException(string message) : CliException(ExitCode.Usage, message);

/// <summary>An input that cannot be used (exit 3).</summary>
internal sealed class InputException(string message) : CliException(ExitCode.InputData, message);

/// <summary>An output that cannot be written (exit 4).</summary>
internal sealed class OutputException(string message) : CliException(ExitCode.Output, message);
