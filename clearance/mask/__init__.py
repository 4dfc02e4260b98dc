"""mask"""
