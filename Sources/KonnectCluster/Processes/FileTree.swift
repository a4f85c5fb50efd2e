#if canImport(Glibc)
    import Glibc
#endif

/// Removes a directory tree (a throwaway cluster's run directory).
public func removeTree(_ path: String) {
    guard let directory = opendir(path) else {
        unlink(path)
        return
    }
    var children: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { children.append(path + "/" + name) }
    }
    closedir(directory)
    for child in children {
        var info = stat()
        if lstat(child, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
    }
    rmdir(path)
}
