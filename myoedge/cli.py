"""Command line."""
def main(argv=None):
    print("myoedge")
